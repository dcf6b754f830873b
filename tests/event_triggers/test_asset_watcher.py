"""Event-driven DAGs: a DAG scheduled on an Asset watched by ``StripeNewChargeEventTrigger``.

The end-to-end test runs a real Airflow 3.3 (dag-processor, scheduler with LocalExecutor, triggerer,
execution API server) against the local Stripe emulator, and checks one DAG run per batch of new
charges, across a killed triggerer and a triggerer stopped in the middle of handing over a batch.
On Airflow < 3.3 the triggers refuse to build, which the fast test checks.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow import __version__ as airflow_version
from airflow.providers.common.compat.sdk import AirflowOptionalProviderFeatureException

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.triggers.stripe import StripeNewChargeEventTrigger, StripeNewRefundEventTrigger
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_3_PLUS
from tests.airflow_cluster import AirflowCluster
from tests.event_triggers.watching import (
    DAG_FILES,
    NEEDS_ASSET_STATE_STORE,
    HiddenBatch,
    WatchedRuns,
    cursor_audit,
    fired_ids,
    saved_ids,
    watcher_cluster,
)
from tests.waiting import wait_for

DAG_ID = "stripe_charges_watcher"
ASSET = "stripe_charges"


@pytest.mark.skipif(AIRFLOW_V_3_3_PLUS, reason=f"Airflow {airflow_version} has the asset state store")
@pytest.mark.parametrize("trigger_class", [StripeNewChargeEventTrigger, StripeNewRefundEventTrigger])
def test_event_triggers_refuse_to_build_before_airflow_3_3(trigger_class: type[Any]) -> None:
    needs_3_3 = r"needs Airflow 3\.3 or newer"
    with pytest.raises(AirflowOptionalProviderFeatureException, match=needs_3_3) as caught:
        trigger_class(poll_interval=1.0)
    assert airflow_version in str(caught.value)
    assert "StripeNewChargeSensor" in str(caught.value)


# -- the real thing --------------------------------------------------------------------------------


def hidden_charges(emulator: StripeEmulator, count: int) -> HiddenBatch:
    """``count`` new charges, hidden until revealed at one instant."""

    def create_charge() -> str:
        response = requests.post(
            f"{emulator.base_url}/v1/charges",
            data={"amount": 1250, "currency": "usd", "source": "tok_visa"},
            auth=(emulator.api_key, ""),
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["id"])

    return HiddenBatch(emulator, lambda: [create_charge() for _ in range(count)])


def create_charges(emulator: StripeEmulator, count: int) -> list[str]:
    """``count`` new charges, one batch."""
    return hidden_charges(emulator, count).reveal()


@pytest.fixture
def cluster(tmp_path: Path, stripe_emulator: StripeEmulator) -> Iterator[AirflowCluster]:
    with watcher_cluster(tmp_path / "airflow", stripe_emulator, DAG_FILES / f"{DAG_ID}.py") as cluster:
        yield cluster


@pytest.mark.real_airflow
@NEEDS_ASSET_STATE_STORE
def test_one_dag_run_per_batch_across_triggerer_restarts(
    cluster: AirflowCluster, stripe_emulator: StripeEmulator
) -> None:
    emulator = stripe_emulator
    watched = WatchedRuns(cluster, emulator, DAG_ID, ASSET, "/v1/charges")
    with cursor_audit(cluster, ASSET) as audit:
        watched.wait_until_polling()
        audit.start()

        watched.expect_one_more_run(create_charges(emulator, 3))
        watched.expect_one_more_run(create_charges(emulator, 2))

        # A crash: the triggerer dies at once. Charges made while none runs come with the next one.
        old_job = watched.triggerer_job()
        cluster.stop("triggerer", signal.SIGKILL)
        watched.timeline("triggerer killed")
        while_down = create_charges(emulator, 2)
        watched.start_new_triggerer(old_job)
        watched.expect_one_more_run(while_down)

        # A stop in the middle of a hand-over: SIGTERM (to the triggerer's whole process group, as
        # systemd and docker send it) right as the poll that finds a batch is answered, so the batch's
        # event is most likely still inside the trigger runner, which drops it when it stops.
        in_flight = hidden_charges(emulator, 2)
        before = watched.polls()
        in_flight.reveal()
        wait_for("the poll that finds the batch", lambda: watched.polls() > before, 10, 0.002)
        old_job = watched.triggerer_job()
        cluster.stop("triggerer", signal.SIGTERM)
        watched.timeline("triggerer stopped mid-hand-over")
        event_stored = set(in_flight.ids) <= fired_ids(cluster, ASSET)
        cursor_saved = set(in_flight.ids) <= saved_ids(cluster, ASSET)
        watched.start_new_triggerer(old_job)
        watched.timeline(f"event stored: {event_stored}, cursor saved: {cursor_saved}")
        watched.expect_one_more_run(in_flight.ids)
        if event_stored and not cursor_saved:
            # Rare: stopped in the second between storing the event and saving the cursor, the one
            # window in which the trigger repeats a batch (it never loses one).
            watched.expect_one_more_run(in_flight.ids)

        watched.assert_quiet()
        watched.assert_each_run_got_its_batch()
        audit.assert_clean()
