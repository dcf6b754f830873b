"""Exports by data interval and incrementally, in real DAG runs (dag.test) against the emulator.

Stripe's list filter ``created[gte]`` / ``created[lt]`` (API reference, "List all charges":
``created`` is a dictionary with ``gt``, ``gte``, ``lt``, ``lte``, in epoch seconds) is what
makes half-open intervals exact; ``created`` has one-second resolution, so objects share seconds.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import AIRFLOW_3, run_dag
from tests.transfers.conftest import create_at, export_dag, folder_bytes, read_lines

DAY = timedelta(days=1)
D0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
DAILY = 'CronDataIntervalTimetable("@daily", timezone="UTC")'


def test_adjacent_intervals_hold_every_object_once(stripe_env: StripeEmulator, tmp_path: Path) -> None:
    t = [int((D0 + n * DAY).timestamp()) for n in range(4)]  # D0..D3 as epoch seconds
    created = {
        # Just before, exactly at, and inside the boundaries; several objects in one second.
        "before_range": create_at(stripe_env, "customers", t[0] - 1),
        "at_d0": create_at(stripe_env, "customers", t[0], 2),
        "last_second_day1": create_at(stripe_env, "customers", t[1] - 1, 3),
        "at_d1": create_at(stripe_env, "customers", t[1], 3),
        "inside_d1_second": create_at(stripe_env, "customers", t[1] + 0.7),
        "midday2": create_at(stripe_env, "customers", t[1] + 43_200, 2),
        "last_second_day2": create_at(stripe_env, "customers", t[2] - 1),
        "at_d2": create_at(stripe_env, "customers", t[2], 2),
        "last_second_day3": create_at(stripe_env, "customers", t[3] - 1),
        "at_d3": create_at(stripe_env, "customers", t[3]),
    }
    stripe_env.clock.reset()  # Stripe's clock back to now: the intervals are long past, no wait
    daily = export_dag(
        "export_daily",
        DAILY,
        resource="customers",
        path=f"file://{tmp_path}/daily/{{{{ data_interval_start | ds }}}}/",
        format="jsonl.gz",
        objects_per_part=2,
        lookback=60,
    )

    folders = []
    for day in (1, 2, 3):
        result = run_dag(daily, D0 + day * DAY)
        manifest = result.xcom("export")
        assert manifest["window"]["created_gte"] == t[day - 1]
        assert manifest["window"]["created_lt"] == t[day]
        folders.append(tmp_path / "daily" / (D0 + (day - 1) * DAY).strftime("%Y-%m-%d"))

    exported = [[obj["id"] for obj in read_lines(folder)] for folder in folders]
    expected_days = [
        created["at_d0"] + created["last_second_day1"],
        created["at_d1"] + created["inside_d1_second"] + created["midday2"] + created["last_second_day2"],
        created["at_d2"] + created["last_second_day3"],
    ]
    assert [sorted(ids) for ids in exported] == [sorted(ids) for ids in expected_days]
    assert all(count == 1 for count in Counter(obj_id for ids in exported for obj_id in ids).values())
    assert [len(json.loads((f / "manifest.json").read_text())["parts"]) for f in folders] == [3, 4, 2]

    # A re-run (a clear) rewrites identical files, and removes parts a larger earlier run left.
    before = folder_bytes(folders[1])
    (folders[1] / "part-00009.jsonl.gz").write_bytes(b"stale")
    run_dag(daily, D0 + 2 * DAY)
    assert folder_bytes(folders[1]) == before

    # A backfill of three days equals one export of the whole range.
    whole = export_dag(
        "export_three_days",
        "DeltaDataIntervalTimetable(timedelta(days=3))",
        resource="customers",
        path=f"file://{tmp_path}/whole/",
        lookback=60,
    )
    manifest = run_dag(whole, D0 + 3 * DAY).xcom("export")
    assert (manifest["window"]["created_gte"], manifest["window"]["created_lt"]) == (t[0], t[3])
    by_day = sorted(json.dumps(obj, sort_keys=True) for folder in folders for obj in read_lines(folder))
    at_once = sorted(json.dumps(obj, sort_keys=True) for obj in read_lines(tmp_path / "whole"))
    assert by_day == at_once


def test_incremental_runs_export_only_what_is_new(stripe_env: StripeEmulator, tmp_path: Path) -> None:
    start = int(D0.timestamp())
    # Stripe's clock stays where the objects were made: Stripe never creates an object in its own past,
    # and the cursor's floor follows Stripe's clock (the Date header) once a poll has caught up.
    first = create_at(stripe_env, "charges", start + 5, 3)
    dag = export_dag(
        "export_incremental",
        "None",
        resource="charges",
        window="incremental",
        path=f"file://{tmp_path}/{{{{ ts_nodash }}}}/",
        lookback=60,
    )
    run1 = run_dag(dag, D0)
    assert sorted(o["id"] for o in read_lines(tmp_path / "20261120T000000")) == sorted(first)
    assert run1.xcom("export", key="stripe_cursor")
    second = create_at(stripe_env, "charges", start + 10, 2)
    run_dag(dag, D0 + DAY)
    assert sorted(o["id"] for o in read_lines(tmp_path / "20261121T000000")) == sorted(second)


def test_an_empty_data_interval_fails_and_sends_nothing(stripe_env: StripeEmulator, tmp_path: Path) -> None:
    # On Airflow 3 a bare cron string is a CronTriggerTimetable: runs have no interval. On 2.11 a
    # cron string is a data-interval schedule, so an unscheduled (manual) run stands in.
    schedule = '"@daily"' if AIRFLOW_3 else "None"
    dag = export_dag("export_empty", schedule, resource="charges", path=f"file://{tmp_path}/x/")
    stripe_env.clear_log()
    result = run_dag(dag, D0)
    assert result.state_of("export") == "failed"
    assert stripe_env.requests == []
    assert not (tmp_path / "x").exists()
