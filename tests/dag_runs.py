"""Run real DAGs in the test session's Airflow: DAG files in its dags folder, dag.test(), the DB.

Works on Airflow 3.x and 2.11, hiding the few API differences (``logical_date`` vs
``execution_date``, where DagBag and the XCom table live).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS as AIRFLOW_3

DAGS_FOLDER = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
_migrated = False


def migrate_db() -> None:
    """``airflow db migrate`` once per test session (SQLite in the session's AIRFLOW_HOME)."""
    global _migrated
    if not _migrated:
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=600)
        _migrated = True


def write_dag(name: str, source: str) -> Path:
    """Put a DAG file into the dags folder (dedented), returning its path."""
    path = DAGS_FOLDER / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def load_dag(path: Path, dag_id: str) -> Any:
    migrate_db()
    if AIRFLOW_3:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(str(path))
    else:
        from airflow.models.dagbag import DagBag

        bag = DagBag(str(path), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


@dataclass
class RunResult:
    """What one DAG run left behind in the metadata DB."""

    run_id: str
    state: str
    task_states: dict[tuple[str, int], str] = field(default_factory=dict)
    tries: dict[tuple[str, int], int] = field(default_factory=dict)
    xcoms: dict[tuple[str, int, str], Any] = field(default_factory=dict)

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        return self.xcoms.get((task_id, map_index, key))

    def state_of(self, task_id: str, map_index: int = -1) -> str:
        return self.task_states[(task_id, map_index)]


def run_dag(dag: Any, logical_date: datetime, **kwargs: Any) -> RunResult:
    """``dag.test()`` for one logical date; tasks run in this process, retries included.

    Running a logical date again is what clearing that run does: dag.test() clears its task
    instances (and so their XComs) first.
    """
    migrate_db()
    if not AIRFLOW_3:
        # Deleting an old run cascades to dag_run_note, whose user_id points at FAB's ab_user:
        # SQLAlchemy needs that table's model loaded to build the cascade.
        import airflow.providers.fab.auth_manager.models  # noqa: F401
    when = logical_date if logical_date.tzinfo else logical_date.replace(tzinfo=timezone.utc)
    # On Airflow 3 the run id is named after run_after (default: now); pinning it to the logical
    # date keeps one run id per logical date, so running a date again really is a clear + rerun.
    date_arg = {"logical_date": when, "run_after": when} if AIRFLOW_3 else {"execution_date": when}
    dag_run = dag.test(**{**date_arg, **kwargs})
    return collect(dag.dag_id, dag_run.run_id)


def collect(dag_id: str, run_id: str) -> RunResult:
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        dag_run = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_id == run_id).one()
        result = RunResult(run_id=run_id, state=str(dag_run.state))
        instances = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id
        )
        for ti in instances:
            result.task_states[(ti.task_id, ti.map_index)] = str(ti.state)
            result.tries[(ti.task_id, ti.map_index)] = ti.try_number
        for row in _xcom_rows(session, dag_id, run_id):
            result.xcoms[row[0]] = row[1]
    return result


def _xcom_rows(session: Any, dag_id: str, run_id: str) -> list[tuple[tuple[str, int, str], Any]]:
    if AIRFLOW_3:
        from airflow.models.xcom import XComModel

        rows = session.query(XComModel).filter(XComModel.dag_id == dag_id, XComModel.run_id == run_id)
        return [((x.task_id, x.map_index, x.key), XComModel.deserialize_value(x)) for x in rows]
    from airflow.models import XCom

    rows = session.query(XCom).filter(XCom.dag_id == dag_id, XCom.run_id == run_id)
    return [((x.task_id, x.map_index, x.key), x.value) for x in rows]
