"""The minimal reproduction of Airflow 3.3's "state changed externally" race (docs/deploying.md).

A sensor that resumes after a deferral, or pokes again in ``reschedule`` mode, runs again with the
SAME try number, so its new run has the same ``TaskInstanceKey`` as the run that just ended. When
the trigger fires (or the reschedule comes due) within seconds, the scheduler can queue the new run
before the executor has read the old run's exit. Airflow 2.11's ``BaseExecutor.trigger_tasks``
held such a workload back while its key was still in ``running`` (its ``attempts``); Airflow
3.3.2's sends it at once. The old run's late ``success`` then removes the key from ``running``
while the new run executes, and ``SchedulerJobRunner._process_executor_events`` fails the task:
a ``success`` event for a task instance that is queued/running with the same try number, queued
by this scheduler, which ``executor.has_task()`` no longer knows.

This drives Airflow's own ``BaseExecutor`` bookkeeping through that order of events; only the
workers are left out (``_process_workloads`` records what a Celery or Local executor would send).
If a later Airflow holds the workload back again, this test fails: then update docs/deploying.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS

pytestmark = pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS, reason="Airflow 2.11's executor holds a workload back while its key is running"
)


def test_a_late_exit_event_makes_the_executor_forget_the_resumed_run() -> None:
    from airflow.executors.base_executor import BaseExecutor
    from airflow.models.taskinstancekey import TaskInstanceKey
    from airflow.utils.state import TaskInstanceState

    class WorkerlessExecutor(BaseExecutor):
        """Airflow's bookkeeping; what it sends to workers is recorded (as CeleryExecutor does:
        ``running.add(key)`` once sent)."""

        sent: list[Any]

        def _process_workloads(self, workload_items: Sequence[Any]) -> None:
            for workload in workload_items:
                self.queued_tasks.pop(workload.ti.key)
                self.running.add(workload.ti.key)
                self.sent.append(workload)

    executor = WorkerlessExecutor()
    executor.sent = []
    key = TaskInstanceKey("stripe_dag", "new_charges", "scheduled__2026-01-01", try_number=1, map_index=-1)
    ti = SimpleNamespace(id=uuid.uuid4(), key=key, priority_weight=1)
    executor.running.add(key)  # the run that deferred: its worker has not reported its exit yet

    # The trigger fires; the scheduler queues the resumed run, same key, and the executor sends it.
    executor.queued_tasks[key] = SimpleNamespace(ti=ti, key=key)  # type: ignore[assignment]
    executor.trigger_tasks(open_slots=1)
    assert len(executor.sent) == 1, "the resumed run was held back: Airflow fixed the race"
    assert executor.has_task(ti)  # type: ignore[arg-type]

    # Now the first run's exit (success, it deferred) is read: the executor forgets the resumed run.
    executor.success(key)
    assert executor.event_buffer[key][0] == TaskInstanceState.SUCCESS
    assert not executor.has_task(ti)  # type: ignore[arg-type]
    # With the task instance queued or running at try 1, queued by this scheduler, that is exactly
    # the case SchedulerJobRunner._process_executor_events fails as "killed externally".
