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
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.dag_runs import load_dag, run_dag, write_dag
from tests.transfers.conftest import folder_bytes, read_lines
from tests.transfers.copies import Copy, Workload, apply, as_json, stripe_holds

HOUR = 3600
RESOURCES = ("customers", "products", "charges", "refunds")
INTERVALS = 4
#: The workload is random but reproducible: the same seed makes the same changes.
SEED = 20261204


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

        start = pendulum.datetime(2025, 1, 1, tz="UTC")
        with DAG({dag_id!r}, schedule={schedule}, start_date=start, catchup=False):
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


def test_changes_wait_for_the_lookback_on_stripes_clock_deferred(
    stripe_connection: str, stripe_emulator: StripeEmulator, tmp_path: Path
) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    workload = Workload(stripe_emulator, random.Random(SEED))
    end = int(datetime.now(timezone.utc).timestamp()) - HOUR
    workload.at(end - 30)
    customer = workload.new_customer()
    workload.at(end + 30)  # the interval has ended, its lookback of 60 s has not
    operator = StripeToObjectStorageOperator(
        task_id="changes", resource="customers", path=f"file://{tmp_path}/", capture="changes", lookback=60
    )
    context: Any = {
        "data_interval_start": datetime.fromtimestamp(end - HOUR, timezone.utc),
        "data_interval_end": datetime.fromtimestamp(end, timezone.utc),
    }
    stripe_emulator.clear_log()
    with pytest.raises(TaskDeferred):
        operator.execute(context)
    assert [(r.method, r.path) for r in stripe_emulator.requests] == [("GET", "/v1/events")]
    assert not tmp_path.joinpath("manifest.json").exists()
    workload.update_customer(customer)  # a change at end + 30: the next interval's
    workload.at(end + 61)
    operator.execute_complete(context)
    assert [row["id"] for row in read_lines(tmp_path)] == [customer]
