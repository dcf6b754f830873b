"""The example export DAGs, unchanged: ``stripe_export_nightly`` exports a day of charges, refunds and
customers; ``stripe_current_copy`` keeps a copy equal to Stripe."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import load_dag, run_dag, write_dag
from tests.example_dags.flows import EXAMPLE_DAGS, example_dag
from tests.transfers.conftest import create_at, read_lines
from tests.transfers.copies import Copy, Workload, apply, as_json, stripe_holds

D1 = datetime(2026, 11, 21, tzinfo=timezone.utc)


def test_nightly_export_writes_one_folder_per_resource_and_day(
    stripe_env: StripeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_EXPORT_ROOT", f"file://{tmp_path}/")
    day_before = D1 - timedelta(days=1)
    charges = create_at(stripe_env, "charges", day_before.timestamp() + 3600, 2)
    refund = requests.post(
        f"{stripe_env.base_url}/v1/refunds",
        data={"charge": charges[0]},
        auth=(stripe_env.api_key, ""),
        timeout=10,
    ).json()["id"]
    customers = create_at(stripe_env, "customers", day_before.timestamp() + 7200)
    create_at(stripe_env, "customers", D1.timestamp())  # the next day's: not in this run
    stripe_env.clock.reset()

    dag = example_dag("stripe_export_nightly")
    assert {outlet.uri for task in dag.tasks for outlet in task.outlets} == {
        f"file://{tmp_path}/{resource}" for resource in ("charges", "refunds", "customers")
    }
    result = run_dag(dag, D1)
    assert result.state == "success", result.task_states
    exported = {
        resource: sorted(obj["id"] for obj in read_lines(tmp_path / resource / "2026-11-20"))
        for resource in ("charges", "refunds", "customers")
    }
    assert exported == {"charges": sorted(charges), "refunds": [refund], "customers": customers}
    assert result.xcom("export_charges")["format"] == "jsonl.gz"


def test_current_copy_example_snapshot_then_an_hour_of_changes_equals_stripe(
    stripe_env: StripeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stripe_current_copy_snapshot`` then one hour of ``stripe_current_copy``, unchanged, applied."""
    monkeypatch.setenv("STRIPE_COPY_ROOT", f"file://{tmp_path}/")
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    workload = Workload(stripe_env, random.Random(7))
    workload.at(int(hour.timestamp()) - 60)
    for _ in range(20):
        workload.random_change()
    source = (EXAMPLE_DAGS / "stripe_current_copy.py").read_text()
    snapshot = load_dag(write_dag("stripe_current_copy", source), "stripe_current_copy_snapshot")
    workload.at(int(hour.timestamp()))
    assert run_dag(snapshot, hour).state == "success"
    workload.interval(int(hour.timestamp()), int(hour.timestamp()) + 3600)
    stripe_env.clock.reset()  # an hour and more later: past the interval's end and the lookback

    changes = load_dag(write_dag("stripe_current_copy", source), "stripe_current_copy")
    result = run_dag(changes, hour + timedelta(hours=1))
    assert result.state == "success", result.task_states
    for resource in ("customers", "products", "charges", "refunds"):
        copy: Copy = {}
        apply(copy, tmp_path / resource / "snapshot")
        apply(copy, tmp_path / resource / "changes" / hour.strftime("%Y%m%dT%H%M%S"))
        assert as_json(copy) == as_json(stripe_holds(stripe_env, resource)), resource
