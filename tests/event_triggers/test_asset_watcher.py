"""Event-driven DAGs: a DAG scheduled on an Asset watched by ``StripeNewChargeEventTrigger``.

The end-to-end test runs a real Airflow 3.3 (dag-processor, scheduler with LocalExecutor, triggerer,
execution API server) against the local Stripe emulator, and checks one DAG run per batch of new
charges, across a killed triggerer and a triggerer stopped in the middle of handing over a batch.
On Airflow < 3.3 the triggers refuse to build, which the fast test checks.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow import __version__ as airflow_version
from airflow.providers.common.compat.sdk import AirflowOptionalProviderFeatureException

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.triggers.stripe import StripeNewChargeEventTrigger, StripeNewRefundEventTrigger
from airflow_provider_stripe.triggers.stripe_events import EVENT_CURSOR_KEY
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_3_PLUS
from tests.airflow_cluster import AirflowCluster, wait_for

DAG_FILE = Path(__file__).parent / "dag_files" / "stripe_charges_watcher.py"
DAG_ID = "stripe_charges_watcher"
ASSET = "stripe_charges"
POLL_INTERVAL = 1.0  # as in the DAG file
#: Long enough for a second, wrong DAG run to show up after a batch's run (scheduler loop + a poll).
SETTLE_SECONDS = 3 * POLL_INTERVAL


@pytest.mark.skipif(AIRFLOW_V_3_3_PLUS, reason=f"Airflow {airflow_version} has the asset state store")
@pytest.mark.parametrize("trigger_class", [StripeNewChargeEventTrigger, StripeNewRefundEventTrigger])
def test_event_triggers_refuse_to_build_before_airflow_3_3(trigger_class: type[Any]) -> None:
    needs_3_3 = r"needs Airflow 3\.3 or newer"
    with pytest.raises(AirflowOptionalProviderFeatureException, match=needs_3_3) as caught:
        trigger_class(poll_interval=1.0)
    assert airflow_version in str(caught.value)
    assert "StripeNewChargeSensor" in str(caught.value)


# -- the real thing --------------------------------------------------------------------------------


class HiddenCharges:
    """``count`` new charges that stay out of Stripe's list until :meth:`reveal`, then all show up at
    the same instant: no poll can see only some of them, so they are one batch by construction."""

    def __init__(self, emulator: StripeEmulator, count: int) -> None:
        self.emulator = emulator
        emulator.clock.freeze()
        emulator.visibility_delay = 0.5
        self.ids = [self._create_charge() for _ in range(count)]
        emulator.visibility_delay = 0

    def _create_charge(self) -> str:
        response = requests.post(
            f"{self.emulator.base_url}/v1/charges",
            data={"amount": 1250, "currency": "usd", "source": "tok_visa"},
            auth=(self.emulator.api_key, ""),
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["id"])

    def reveal(self) -> list[str]:
        self.emulator.clock.advance(1.0)
        self.emulator.clock.unfreeze()
        return self.ids


def create_charges(emulator: StripeEmulator, count: int) -> list[str]:
    """``count`` new charges, one batch."""
    return HiddenCharges(emulator, count).reveal()


def charge_ids(run: dict[str, Any]) -> list[list[str]]:
    """The charge ids (sorted) of each asset event that triggered ``run``."""
    return [
        sorted(charge["id"] for charge in event["extra"]["payload"]["objects"]) for event in run["events"]
    ]


def saved_charge_ids(cluster: AirflowCluster) -> set[str]:
    """The charge ids in the trigger's saved cursor (the asset state store)."""
    stored = cluster.asset_state(ASSET, EVENT_CURSOR_KEY)
    return {obj_id for ids in json.loads(stored)["delivered"].values() for obj_id in ids} if stored else set()


def fired_charge_ids(cluster: AirflowCluster) -> set[str]:
    """The charge ids in the asset's stored events."""
    rows = cluster.query(
        "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ?", (ASSET,)
    )
    return {charge["id"] for (extra,) in rows for charge in json.loads(extra)["payload"]["objects"]}


class CursorAudit(threading.Thread):
    """Samples the metadata DB all along: the saved cursor must never hold a charge whose asset event
    is not stored yet, or a triggerer that stops at that moment loses the batch for good."""

    def __init__(self, cluster: AirflowCluster) -> None:
        super().__init__(name="cursor-audit", daemon=True)
        self.cluster = cluster
        self.stopping = threading.Event()
        self.samples = 0
        self.violations: list[str] = []

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            saved = saved_charge_ids(self.cluster)
            # Read after the cursor: events are only ever added, so this cannot report a false gap.
            unfired = saved - fired_charge_ids(self.cluster)
            self.samples += 1
            violation = f"cursor saved {sorted(unfired)} before their asset event"
            if unfired and violation not in self.violations:
                self.violations.append(violation)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


@pytest.fixture
def cluster(tmp_path: Path, stripe_emulator: StripeEmulator) -> Iterator[AirflowCluster]:
    home = tmp_path / "airflow"
    cluster = AirflowCluster(home, {"AIRFLOW_CONN_STRIPE_DEFAULT": stripe_emulator.connection_json()})
    shutil.copy(DAG_FILE, cluster.dags_folder / DAG_FILE.name)
    try:
        cluster.migrate()
        for name in ("api-server", "dag-processor", "scheduler", "triggerer"):
            cluster.start(name)
        yield cluster
    finally:
        cluster.stop_all()


@pytest.mark.real_airflow
@pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason=f"AssetWatcher triggers with an asset state store need Airflow 3.3+ (this is {airflow_version})",
)
def test_one_dag_run_per_batch_across_triggerer_restarts(
    cluster: AirflowCluster, stripe_emulator: StripeEmulator
) -> None:
    emulator = stripe_emulator
    batches: list[list[str]] = []  # what each DAG run must have got, in order
    started = time.monotonic()

    def timeline(step: str) -> None:
        print(f"[{time.monotonic() - started:5.1f} s] {step}", time.strftime("%H:%M:%S", time.gmtime()))

    def runs() -> list[dict[str, Any]]:
        cluster.assert_running()
        return cluster.dag_runs(DAG_ID)

    def expect_one_more_run(batch: list[str], timeout: float = 60) -> None:
        """Exactly one new DAG run, triggered by exactly one asset event that carries ``batch``."""
        batches.append(sorted(batch))
        wait_for(f"DAG run #{len(batches)}", lambda: len(runs()) >= len(batches), timeout)
        timeline(f"DAG run #{len(batches)} ({len(batch)} charges)")
        time.sleep(SETTLE_SECONDS)
        assert [charge_ids(run) for run in runs()] == [[batch] for batch in batches]

    def polls() -> int:
        return emulator.count("GET", "/v1/charges")

    def triggerer_job() -> int | None:
        ((_, _, job_id),) = cluster.watcher_triggers(ASSET)
        return job_id

    def start_new_triggerer(old_job: int | None) -> None:
        cluster.start("triggerer")
        wait_for("the new triggerer to take the trigger over", lambda: triggerer_job() != old_job, 60)

    audit = CursorAudit(cluster)
    try:
        # The DAG processor registers the watcher's trigger once the DAG is parsed and unpaused; the
        # trigger saves its starting cursor ("now") and starts polling.
        wait_for("the watcher's trigger in the DB", lambda: cluster.watcher_triggers(ASSET), 120)
        wait_for("the trigger's first cursor", lambda: cluster.asset_state(ASSET, EVENT_CURSOR_KEY), 60)
        wait_for("the trigger's first poll", polls, 30)
        timeline("the watcher's trigger polls")
        audit.start()

        expect_one_more_run(create_charges(emulator, 3))
        expect_one_more_run(create_charges(emulator, 2))

        # A crash: the triggerer dies at once. Charges made while none runs come with the next one.
        old_job = triggerer_job()
        cluster.stop("triggerer", signal.SIGKILL)
        timeline("triggerer killed")
        while_down = create_charges(emulator, 2)
        start_new_triggerer(old_job)
        timeline("new triggerer took over")
        expect_one_more_run(while_down)

        # A stop in the middle of a hand-over: SIGTERM (to the triggerer's whole process group, as
        # systemd and docker send it) right as the poll that finds a batch is answered, so the batch's
        # event is most likely still inside the trigger runner, which drops it when it stops.
        in_flight = HiddenCharges(emulator, 2)
        before = polls()
        in_flight.reveal()
        wait_for("the poll that finds the batch", lambda: polls() > before, 10, 0.002)
        old_job = triggerer_job()
        cluster.stop("triggerer", signal.SIGTERM)
        timeline("triggerer stopped mid-hand-over")
        event_stored = set(in_flight.ids) <= fired_charge_ids(cluster)
        cursor_saved = set(in_flight.ids) <= saved_charge_ids(cluster)
        start_new_triggerer(old_job)
        timeline(f"new triggerer took over (event stored: {event_stored}, cursor saved: {cursor_saved})")
        expect_one_more_run(in_flight.ids)
        if event_stored and not cursor_saved:
            # Rare: stopped in the second between storing the event and saving the cursor, the one
            # window in which the trigger repeats a batch (it never loses one).
            expect_one_more_run(in_flight.ids)

        # Nothing new for several polls: no more runs.
        before = polls()
        time.sleep(5 * POLL_INTERVAL)
        assert polls() >= before + 3, "the trigger stopped polling"
        assert [charge_ids(run) for run in runs()] == [[batch] for batch in batches]

        # Each run ran its task, which got its batch from `triggering_asset_events`.
        wait_for(
            "every run to finish", lambda: all(r["state"] not in ("queued", "running") for r in runs()), 90
        )
        finished = runs()
        assert [run["state"] for run in finished] == ["success"] * len(batches)
        assert {run["run_type"] for run in finished} == {"asset_triggered"}
        records = cluster.home / "task_records"
        assert [
            sorted(json.loads((records / f"{run['run_id']}.json").read_text())) for run in finished
        ] == batches

        timeline("all runs succeeded with their batch")
        audit.stop()
        assert audit.samples > 0
        assert audit.violations == []
    except BaseException:
        print(cluster.diagnostics())
        print("cursor audit:", audit.violations or "no violation", f"({audit.samples} samples)")
        raise
    finally:
        audit.stopping.set()
