"""The example DAG ``stripe_export_nightly``, unchanged, exports a day of charges, refunds and customers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import run_dag
from tests.example_dags.flows import example_dag
from tests.transfers.conftest import create_at, read_lines

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
