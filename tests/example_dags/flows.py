"""The example DAGs' main flow, as ``scripts/demo`` runs it, for the emulator and real-Stripe tests.

The scheduled checkout creates a product, a customer, a charge and a refund; then the two sensor
DAGs run with ``start_from`` a moment before the checkout began, so their first run sees what it
created (deployed, they would already be waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.dag_runs import RunResult, load_dag, run_dag, write_dag

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


def example_dag(dag_id: str) -> Any:
    """The example file, unchanged, in the test session's dags folder (where dag.test expects it)."""
    return load_dag(write_dag(dag_id, (EXAMPLE_DAGS / f"{dag_id}.py").read_text()), dag_id)


def delivered(result: RunResult, sensor: str, mapped: str) -> list[str]:
    """The ids ``sensor`` returned, after checking the run and its one mapped task per object."""
    assert result.state == "success", result.task_states
    ids = [obj["id"] for obj in result.xcom(sensor)]
    indexes = sorted(index for (task, index) in result.task_states if task == mapped)
    assert indexes == list(range(len(ids)))
    assert {result.state_of(mapped, index) for index in indexes} == {"success"}
    return ids


def run_checkout() -> RunResult:
    """One run of the scheduled checkout, now (its state is for the caller to check)."""
    return run_dag(example_dag("stripe_scheduled_checkout"), datetime.now(timezone.utc))


@dataclass
class Flow:
    checkout: RunResult
    charges: RunResult
    refunds: RunResult
    charges_seen: list[str]
    refunds_seen: list[str]

    def created(self, task_id: str) -> dict[str, Any]:
        obj: dict[str, Any] = self.checkout.xcom(task_id)
        return obj


def run_sensor_dags(checkout: RunResult, started: datetime) -> Flow:
    """The two sensor DAGs' first runs, told to start from ``started`` (just before the checkout)."""
    assert checkout.state == "success", checkout.task_states
    first_run = {"start_from": int(started.timestamp()) - 1}
    now = datetime.now(timezone.utc)
    charges = run_dag(example_dag("stripe_new_charges"), now, run_conf=first_run)
    refunds = run_dag(example_dag("stripe_new_refunds"), now, run_conf=first_run)
    return Flow(
        checkout=checkout,
        charges=charges,
        refunds=refunds,
        charges_seen=delivered(charges, "wait_for_new_charges", "book_charge"),
        refunds_seen=delivered(refunds, "wait_for_new_refunds", "record_refund"),
    )


def run_flow() -> Flow:
    started = datetime.now(timezone.utc)
    return run_sensor_dags(run_checkout(), started)
