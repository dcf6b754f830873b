"""OpenLineage events of a real DAG run name the Stripe lists each task read and wrote.

Source: Airflow's OpenLineage provider guide, "Implementing OpenLineage in Operators": an operator's
``get_openlineage_facets_on_complete(task_instance)`` returns an ``OperatorLineage`` whose inputs
and outputs go into the task's COMPLETE event. The events are captured with openlineage-python's
``file`` transport, configured as users configure it (``AIRFLOW__OPENLINEAGE__TRANSPORT``), in an
``airflow dags test`` process of its own (the provider caches its configuration per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import load_dag, write_dag
from tests.sensors.test_sensor_runs import create_charges

pytest.importorskip("airflow.providers.openlineage")
pytestmark = pytest.mark.real_airflow

DAG_ID = "stripe_lineage"
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_tasks_report_the_stripe_lists_they_read_and_wrote(
    stripe_emulator: StripeEmulator, tmp_path: Path
) -> None:
    events_from = stripe_emulator.clock.now()  # within Stripe's 30-day event retention
    path = write_dag(
        DAG_ID,
        f"""
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.operators.stripe import (
            StripeCreateCustomerOperator,
            StripeFindCustomerOperator,
        )
        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewEventSensor

        with DAG({DAG_ID!r}, schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            created = StripeCreateCustomerOperator(task_id="create_customer", email="jenny@example.com")
            found = StripeFindCustomerOperator(task_id="find_customer", email="jenny@example.com")
            created >> found
            StripeNewChargeSensor(task_id="new_charges", start_from=0, poke_interval=0.1, timeout=30)
            StripeNewEventSensor(
                task_id="new_events", event_types="charge.*", start_from={events_from}, poke_interval=0.1,
                timeout=30,
            )
        """,
    )
    load_dag(path, DAG_ID)  # parses cleanly, and migrates the DB once
    create_charges(stripe_emulator, 1)  # for the sensors to find at once (a charge, its charge.succeeded)
    events_file = tmp_path / "events.jsonl"
    env = {
        **os.environ,
        **stripe_emulator.env("stripe_default"),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "stripe-tests",
        # The DAG's tasks import this checkout, not the installed copy.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run(
        [airflow, "dags", "test", DAG_ID, "2026-01-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    completed = completed_tasks(events_file)
    assert completed["create_customer"] == ([], [("stripe://test", "customers")])
    assert completed["find_customer"] == ([("stripe://test", "customers")], [])
    assert completed["new_charges"] == ([("stripe://test", "charges")], [])
    assert completed["new_events"] == ([("stripe://test", "events")], [])


def completed_tasks(events_file: Path) -> dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """task id -> (inputs, outputs) of its COMPLETE event, each as (namespace, name) pairs."""
    events: list[dict[str, Any]] = [json.loads(line) for line in events_file.read_text().splitlines() if line]
    completed = {}
    for event in events:
        if event.get("eventType") != "COMPLETE" or not event["job"]["name"].startswith(f"{DAG_ID}."):
            continue
        task_id = event["job"]["name"].removeprefix(f"{DAG_ID}.")
        completed[task_id] = (
            [(dataset["namespace"], dataset["name"]) for dataset in event.get("inputs", [])],
            [(dataset["namespace"], dataset["name"]) for dataset in event.get("outputs", [])],
        )
    return completed
