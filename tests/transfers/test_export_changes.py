"""A current copy of Stripe: a snapshot, then each interval's changes, applied in order, equals Stripe.

Real DAG runs (``dag.test``) against the emulator, whose clock a seeded random workload steers:
creates, updates, refunds, declines and deletes of customers, products, charges and refunds, several
changes of one object in one second, deletes on an interval's first and last second, objects created
and deleted inside one interval. The copy is compared, object for object as JSON, with what the
official stripe SDK lists. Sources: "List all events" (``created``, ``types``, 30 days), "Retrieve a
customer" (a deleted customer is ``{"id", "object", "deleted": true}``), "Delete a product" (a
deleted product is "No such product" afterwards), ``charge.refunded`` (a refund changes its charge).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import stripe

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.dag_runs import load_dag, run_dag, write_dag
from tests.emulator.conftest import sdk_client
from tests.transfers.conftest import folder_bytes, read_lines

HOUR = 3600
RESOURCES = ("customers", "products", "charges", "refunds")
INTERVALS = 4
#: The workload is random but reproducible: the same seed makes the same changes.
SEED = 20261204
Copy = dict[str, dict[str, Any]]


def _dag(dag_id: str, schedule: str, root: Path, **operator: Any) -> Any:
    """One export task per resource, into ``root/<resource>/<data interval start>/``."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in operator.items())
    path = write_dag(
        dag_id,
        f"""
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

        try:
            from airflow.sdk import CronDataIntervalTimetable
        except ImportError:
            from airflow.timetables.interval import CronDataIntervalTimetable

        with DAG({dag_id!r}, schedule={schedule}, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False):
            for resource in {RESOURCES!r}:
                StripeToObjectStorageOperator(
                    task_id=resource,
                    resource=resource,
                    path="file://{root}/" + resource + "/{{{{ data_interval_start | ts_nodash }}}}/",
                    {arguments},
                )
        """,
    )
    return load_dag(path, dag_id)


class Workload:
    """Random changes through the official SDK, at seconds the test chooses on the emulator's clock."""

    def __init__(self, emulator: StripeEmulator, rng: random.Random) -> None:
        self.emulator = emulator
        self.client = sdk_client(emulator)
        self.rng = rng
        self.customers: list[str] = []
        self.products: list[str] = []
        self.charges: dict[str, int] = {}  # id -> amount left to refund
        self.refunds: list[str] = []

    def at(self, second: int) -> None:
        self.emulator.clock.freeze(at=second)

    def new_customer(self) -> str:
        customer = self.client.v1.customers.create(
            params={"email": f"c{self.rng.randrange(10**6)}@example.com"}
        )
        self.customers.append(customer.id)
        return customer.id

    def update_customer(self, customer_id: str | None = None) -> None:
        customer_id = customer_id or self.rng.choice(self.customers)
        self.client.v1.customers.update(
            customer_id,
            params={"name": f"N{self.rng.randrange(10**6)}", "metadata": {"n": str(self.rng.random())}},
        )

    def delete_customer(self, customer_id: str | None = None) -> None:
        customer_id = customer_id or self.rng.choice(self.customers)
        self.customers.remove(customer_id)
        self.client.v1.customers.delete(customer_id)

    def new_product(self) -> str:
        product = self.client.v1.products.create(params={"name": f"P{self.rng.randrange(10**6)}"})
        self.products.append(product.id)
        return product.id

    def update_product(self) -> None:
        self.client.v1.products.update(
            self.rng.choice(self.products), params={"active": self.rng.random() < 0.5, "description": "d"}
        )

    def delete_product(self, product_id: str | None = None) -> None:
        product_id = product_id or self.rng.choice(self.products)
        self.products.remove(product_id)
        self.client.v1.products.delete(product_id)

    def new_charge(self) -> None:
        amount = self.rng.randrange(100, 5000)
        if self.rng.random() < 0.15:  # declined: Stripe keeps the failed charge (charge.failed)
            with pytest.raises(stripe.CardError):
                self.client.v1.charges.create(
                    params={"amount": amount, "currency": "usd", "source": "tok_chargeDeclined"}
                )
            return
        charge = self.client.v1.charges.create(
            params={"amount": amount, "currency": "usd", "source": "tok_visa"}
        )
        self.charges[charge.id] = amount

    def update_charge(self) -> None:
        self.client.v1.charges.update(
            self.rng.choice(sorted(self.charges)), params={"metadata": {"order": str(self.rng.randrange(99))}}
        )

    def refund(self) -> None:
        refundable = sorted(charge for charge, left in self.charges.items() if left > 0)
        if not refundable:
            return self.new_charge()
        charge = self.rng.choice(refundable)
        amount = self.rng.randrange(1, self.charges[charge] + 1)
        self.charges[charge] -= amount
        refund = self.client.v1.refunds.create(params={"charge": charge, "amount": amount})
        self.refunds.append(refund.id)

    def update_refund(self) -> None:
        if not self.refunds:
            return self.refund()
        self.client.v1.refunds.update(self.rng.choice(self.refunds), params={"metadata": {"k": "v"}})

    def random_change(self) -> None:
        changes: list[Callable[[], Any]] = [self.new_customer, self.new_product, self.new_charge]
        if self.customers:
            changes += [self.update_customer, self.update_customer, self.delete_customer]
        if self.products:
            changes += [self.update_product, self.delete_product]
        if self.charges:
            changes += [self.update_charge, self.refund, self.refund, self.update_refund]
        self.rng.choice(changes)()

    def interval(self, start: int, end: int) -> None:
        """About 25 random changes between ``start`` and ``end - 1``, plus the hard cases."""
        self.at(start)
        if self.customers:
            self.delete_customer()  # on the interval's first second, right after the last export
        seconds = sorted(self.rng.randrange(start, end - 1) for _ in range(25))
        burst = self.rng.choice(seconds)
        for second in seconds:
            self.at(second)
            self.random_change()
            if second == burst:  # several changes of one object in one second
                customer = self.new_customer()
                for _ in range(3):
                    self.update_customer(customer)
        self.at(start + 10)
        short_lived = self.new_customer(), self.new_product()  # created and deleted in one interval
        while len(self.customers) < 4:  # one to delete on the last second
            self.new_customer()
        self.at(end - 2)
        self.delete_customer(short_lived[0])
        self.delete_product(short_lived[1])
        self.at(end - 1)
        self.delete_customer()  # on the interval's last second


def apply(copy: Copy, folder: Path) -> int:
    """Upsert each row by id, delete on a stub (what docs/current-copy.md's MERGE statements do);
    the number of stubs."""
    rows = read_lines(folder)
    assert len({row["id"] for row in rows}) == len(rows), "an object appears twice in one folder"
    for row in rows:
        if row.get("deleted"):
            copy.pop(row["id"], None)
        else:
            copy[row["id"]] = row
    return sum(1 for row in rows if row.get("deleted"))


def stripe_holds(emulator: StripeEmulator, resource: str) -> Copy:
    """Every object of the list, as the official SDK lists it."""
    listed = getattr(sdk_client(emulator).v1, resource).list(params={"limit": 100}).auto_paging_iter()
    return {obj.id: obj.to_dict() for obj in listed}


def as_json(copy: Copy) -> dict[str, str]:
    return {object_id: json.dumps(obj, sort_keys=True) for object_id, obj in copy.items()}


def test_snapshot_then_changes_equals_stripe(
    stripe_connection: str, stripe_emulator: StripeEmulator, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    workload = Workload(stripe_emulator, rng)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    t0 = int((now - timedelta(hours=INTERVALS + 2)).timestamp())
    workload.at(t0 - 600)  # what the account held before: the snapshot's part
    for _ in range(30):
        workload.random_change()

    workload.at(t0)
    snapshot = _dag("copy_snapshot", "None", tmp_path / "snapshot", window="all")
    run_dag(snapshot, datetime.fromtimestamp(t0, timezone.utc))
    hourly = 'CronDataIntervalTimetable("@hourly", timezone="UTC")'
    changes = _dag("copy_changes", hourly, tmp_path / "changes", capture="changes", lookback=0)
    starts = [t0 + k * HOUR for k in range(INTERVALS)]
    for start in starts:
        workload.interval(start, start + HOUR)
        workload.at(start + HOUR)  # Stripe's clock at the interval's end: listable at once (lookback 0)
        result = run_dag(changes, datetime.fromtimestamp(start + HOUR, timezone.utc))
        assert result.state == "success", result.task_states

    def folder(root: str, resource: str, start: int) -> Path:
        return (
            tmp_path / root / resource / datetime.fromtimestamp(start, timezone.utc).strftime("%Y%m%dT%H%M%S")
        )

    copies: dict[str, Copy] = {}
    stubs: dict[str, int] = {}
    for resource in RESOURCES:
        copy: Copy = {}
        stubs[resource] = apply(copy, folder("snapshot", resource, t0))
        for start in starts:
            manifest = json.loads((folder("changes", resource, start) / "manifest.json").read_text())
            assert manifest["window"]["capture"] == "changes"
            assert (manifest["window"]["created_gte"], manifest["window"]["created_lt"]) == (
                start,
                start + HOUR,
            )
            stubs[resource] += apply(copy, folder("changes", resource, start))
        assert as_json(copy) == as_json(stripe_holds(stripe_emulator, resource)), resource
        copies[resource] = copy
    assert all(copies.values())
    assert stubs["customers"] >= 2 * INTERVALS  # the last-second delete and the short-lived one, at least
    assert stubs["products"] >= INTERVALS

    # A re-run of the last interval, nothing having changed since, rewrites identical files.
    last = {resource: folder_bytes(folder("changes", resource, starts[-1])) for resource in RESOURCES}
    run_dag(changes, datetime.fromtimestamp(starts[-1] + HOUR, timezone.utc))
    assert {resource: folder_bytes(folder("changes", resource, starts[-1])) for resource in RESOURCES} == last

    # A re-run of an earlier interval (its objects changed since), applied again, changes nothing.
    run_dag(changes, datetime.fromtimestamp(starts[1] + HOUR, timezone.utc))
    for resource in RESOURCES:
        again = dict(copies[resource])
        apply(again, folder("changes", resource, starts[1]))
        assert as_json(again) == as_json(copies[resource]), resource


def test_a_window_beyond_the_30_day_event_retention_fails_and_writes_no_manifest(
    stripe_connection: str, stripe_emulator: StripeEmulator, tmp_path: Path
) -> None:
    stripe_emulator.clock.freeze()
    now = datetime.fromtimestamp(stripe_emulator.clock.now(), timezone.utc)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=31)
    operator = StripeToObjectStorageOperator(
        task_id="changes", resource="customers", path=f"file://{tmp_path}/old/", capture="changes"
    )
    context: Any = {"data_interval_start": start, "data_interval_end": start + timedelta(days=1)}
    with pytest.raises(StripeValidationError) as error:
        operator.execute(context)
    assert error.value.param == "window"
    assert "Stripe keeps events for 30 days" in str(error.value)
    assert "new snapshot" in str(error.value)
    assert not (tmp_path / "old").exists()

    # The same in a DAG run: the task fails, and the folder gets no manifest.
    daily = 'CronDataIntervalTimetable("@daily", timezone="UTC")'
    dag = _dag("changes_too_old", daily, tmp_path / "dag", capture="changes")
    result = run_dag(dag, start + timedelta(days=1))
    assert result.state_of("customers") == "failed"
    assert not list((tmp_path / "dag").rglob("manifest.json"))


def test_incremental_changes_since_the_previous_run(
    stripe_connection: str, stripe_emulator: StripeEmulator, tmp_path: Path
) -> None:
    workload = Workload(stripe_emulator, random.Random(SEED))
    start = int(datetime.now(timezone.utc).timestamp()) - 3 * HOUR
    workload.at(start + 5)
    kept, gone = workload.new_customer(), workload.new_customer()
    operator: dict[str, Any] = {"capture": "changes", "window": "incremental", "lookback": 0}
    dag = _dag("changes_incremental", "None", tmp_path, **operator)
    workload.at(start + 10)
    run_dag(dag, datetime.fromtimestamp(start, timezone.utc))
    first = read_lines(
        tmp_path / "customers" / datetime.fromtimestamp(start, timezone.utc).strftime("%Y%m%dT%H%M%S")
    )
    assert [row["id"] for row in first] == [kept, gone]

    workload.at(start + 20)
    workload.update_customer(kept)
    workload.update_customer(kept)
    workload.delete_customer(gone)
    workload.at(start + 30)
    stripe_emulator.clear_log()
    run_dag(dag, datetime.fromtimestamp(start + HOUR, timezone.utc))
    second = read_lines(
        tmp_path / "customers" / datetime.fromtimestamp(start + HOUR, timezone.utc).strftime("%Y%m%dT%H%M%S")
    )
    assert second == [
        stripe_holds(stripe_emulator, "customers")[kept],
        {"id": gone, "object": "customer", "deleted": True},
    ]
    # Retrieved once each, although kept changed twice.
    assert stripe_emulator.count("GET", f"/v1/customers/{kept}") == 1
