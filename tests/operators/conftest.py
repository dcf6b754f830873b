from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator


@pytest.fixture
def stripe_env(stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> StripeEmulator:
    """The emulator as ``stripe_default``, with retries that wait milliseconds."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT", stripe_emulator.connection_json(extra={"backoff_initial": 0.01})
    )
    return stripe_emulator


def task_context(dag_id: str = "dag", task_id: str = "task", run_id: str = "run", map_index: int = -1) -> Any:
    """The one part of a task's context the operators read: the task instance's identity."""
    return {"ti": SimpleNamespace(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index)}
