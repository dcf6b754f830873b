"""The change feed under a real triggerer: a DAG scheduled on an Asset watched by
``StripeChangeFeedEventTrigger(event_types=["customer.updated", "charge.refunded"])``.

A real Airflow 3.3 (dag-processor, scheduler with LocalExecutor, triggerer, execution API server)
against the local Stripe emulator; the changes are made with the official ``stripe`` SDK: customer
updates (https://docs.stripe.com/api/customers/update, event ``customer.updated``) and refunds
(https://docs.stripe.com/api/refunds/create, events ``charge.refunded`` and ``refund.created``, the
latter not watched; event types: https://docs.stripe.com/api/events/types). Each batch of changes
must come in exactly one asset event and one DAG run, across a killed triggerer, and the events the
SDK lists with ``types[]`` (https://docs.stripe.com/api/events/list) must be exactly those delivered.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from airflow_provider_stripe.testing import StripeEmulator
from tests.airflow_cluster import AirflowCluster
from tests.event_triggers.watching import (
    DAG_FILES,
    NEEDS_ASSET_STATE_STORE,
    HiddenBatch,
    WatchedRuns,
    cursor_audit,
    watcher_cluster,
)

pytestmark = [pytest.mark.real_airflow, NEEDS_ASSET_STATE_STORE]

DAG_ID = "stripe_changes_watcher"
ASSET = "stripe_changes"
WATCHED = ("customer.updated", "charge.refunded")  # as in the DAG file


@pytest.fixture
def cluster(tmp_path: Path, stripe_emulator: StripeEmulator) -> Iterator[AirflowCluster]:
    with watcher_cluster(tmp_path / "airflow", stripe_emulator, DAG_FILES / f"{DAG_ID}.py") as cluster:
        yield cluster


def watched_event_ids(emulator: StripeEmulator) -> set[str]:
    """Every event of a watched type that Stripe has recorded, visible in its lists or not yet."""
    return {event["id"] for event in emulator.objects("event") if event["type"] in WATCHED}


def changes(
    emulator: StripeEmulator, client: stripe.StripeClient, customers: list[str], refund_of: str | None
) -> HiddenBatch:
    """Renames ``customers`` and refunds part of ``refund_of``, hidden until revealed at one instant;
    the batch is the watched events they made."""

    def make() -> list[str]:
        before = watched_event_ids(emulator)
        for customer in customers:
            client.v1.customers.update(customer, params={"name": f"renamed {uuid.uuid4().hex[:8]}"})
        if refund_of:
            client.v1.refunds.create(params={"charge": refund_of, "amount": 100})
        return sorted(watched_event_ids(emulator) - before)

    return HiddenBatch(emulator, make)


def test_each_change_in_exactly_one_dag_run_across_a_triggerer_restart(
    cluster: AirflowCluster, stripe_emulator: StripeEmulator
) -> None:
    emulator = stripe_emulator
    client = stripe.StripeClient(emulator.api_key, base_addresses={"api": emulator.base_url})
    # Made before the watch starts, and of types it does not watch anyway.
    customers = [client.v1.customers.create(params={"name": f"customer {n}"}).id for n in range(3)]
    charge = client.v1.charges.create(params={"amount": 5000, "currency": "usd", "source": "tok_visa"}).id
    watched = WatchedRuns(cluster, emulator, DAG_ID, ASSET, "/v1/events")
    with cursor_audit(cluster, ASSET) as audit:
        watched.wait_until_polling()
        audit.start()

        first = changes(emulator, client, customers[:2], charge).reveal()
        assert len(first) == 3  # two customer.updated, one charge.refunded (refund.created unwatched)
        watched.expect_one_more_run(first)

        # The triggerer dies at once; the changes made while none runs come with the next one.
        old_job = watched.triggerer_job()
        cluster.stop("triggerer", signal.SIGKILL)
        watched.timeline("triggerer killed")
        while_down = changes(emulator, client, customers[1:], charge).reveal()
        watched.start_new_triggerer(old_job)
        watched.expect_one_more_run(while_down)

        watched.expect_one_more_run(changes(emulator, client, customers[:1], None).reveal())

        watched.assert_quiet()
        watched.assert_each_run_got_its_batch()
        # None lost: the official SDK lists exactly the delivered events of the watched types.
        listed = client.v1.events.list(params={"types": list(WATCHED), "limit": 100}).auto_paging_iter()
        assert sorted(event.id for event in listed) == sorted(i for batch in watched.batches for i in batch)
        audit.assert_clean()
