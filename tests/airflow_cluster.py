"""A throw-away Airflow deployment of real processes for end-to-end tests.

``AirflowCluster`` gives each test its own AIRFLOW_HOME and metadata DB (never the test session's): a
SQLite file by default, or a PostgreSQL database (``tests/deployment/services.py``), which Airflow 2's
LocalExecutor and any CeleryExecutor need. It runs
``airflow db migrate``, then starts the processes a DAG run needs (an asset-watcher DAG, or any DAG run
by a real scheduler and LocalExecutor), each in its own process group so that stopping one takes its
children with it:

- ``dag-processor``: parses the DAG file; a DAG whose asset has watchers gets its triggers registered
  (``AssetModelOperation.add_asset_trigger_references``), but only once the DAG is unpaused.
- ``triggerer``: runs the watcher's trigger and turns each of its events into an asset event.
- ``scheduler`` (LocalExecutor): creates one DAG run per queued asset event and runs its tasks.
- ``api-server --apps execution``: the Execution API that Airflow 3 task processes talk to.
- ``worker-1``, ``worker-2``: Celery workers (with ``AIRFLOW__CORE__EXECUTOR=CeleryExecutor``).

Airflow 2 has no api-server, and its scheduler parses DAG files itself. The metadata DB is read with
plain ``sqlite3`` (read-only) or ``psycopg2``, so the test process never imports Airflow's ORM
against a second home.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS

AIRFLOW = Path(sys.executable).with_name("airflow")
PROCESSES = {
    "api-server": ["api-server", "--apps", "execution", "--workers", "1"],
    "dag-processor": ["dag-processor"],
    # No log servers: they would listen on all interfaces, on fixed ports.
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
    **{
        worker: [
            "celery",
            "worker",
            "--concurrency",
            "2",
            "--celery-hostname",
            f"{worker}@%h",
            "--skip-serve-logs",
        ]
        for worker in ("worker-1", "worker-2")
    },
}
#: What a DAG run needs besides its executor's workers.
CORE_PROCESSES = (
    ("api-server", "dag-processor", "scheduler", "triggerer")
    if AIRFLOW_V_3_0_PLUS
    else ("scheduler", "triggerer")
)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AirflowCluster:
    """Airflow processes sharing one throw-away home; :meth:`stop_all` always cleans up."""

    def __init__(self, home: Path, extra_env: Mapping[str, str], database_url: str | None = None) -> None:
        self.home = home
        self.db_path = home / "airflow.db"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.dags_folder = home / "dags"
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        self.api_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._generation: dict[str, int] = {}
        self.env = self._environment(extra_env)

    def _environment(self, extra_env: Mapping[str, str]) -> dict[str, str]:
        from cryptography.fernet import Fernet

        # Nothing from the test session's Airflow (its home, its DB, its connections) leaks in.
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AIRFLOW_", "AIRFLOW__", "_AIRFLOW"))
        }
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "2",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                # Every process must share these: trigger kwargs are Fernet-encrypted in the DB and
                # the scheduler signs the task tokens that the API server checks.
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex(),
                "AIRFLOW__API__SECRET_KEY": os.urandom(16).hex(),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
                # Fast loops, so that the whole scenario takes about a minute.
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
                # A killed triggerer's triggers go to the next one once its heartbeat is this old.
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "4",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra_env)
        return env

    # -- processes -------------------------------------------------------------------------------

    def migrate(self) -> None:
        self.cli("db", "migrate", timeout=300)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` against this deployment (e.g. ``pools set``) and return its output;
        a failure raises with the end of its output."""
        done = subprocess.run(
            [str(AIRFLOW), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise AssertionError(
                f"airflow {' '.join(args)} exited with {done.returncode}:\n{done.stderr[-3000:]}"
            )
        return done

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """Start ``airflow <name>`` in a new process group, its output in ``<home>/<name>-<n>.log``."""
        generation = self._generation.get(name, 0) + 1
        self._generation[name] = generation
        log = (self.home / f"{name}-{generation}.log").open("wb")
        process = subprocess.Popen(
            [str(AIRFLOW), *PROCESSES[name]],
            env=self.env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
        log.close()
        self.processes[name] = process
        return process

    def stop(self, name: str, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> None:
        """Signal the process group of ``name`` and wait for its leader; SIGKILL after ``timeout``."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        # Found now: once the leader is gone they belong to init. Airflow 2's task runner puts each
        # task in a process group of its own, which a signal to the leader's group does not reach.
        descendants = _descendants(process.pid)
        _signal_group(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(10)
        # Children that outlived their leader (a trigger runner, a task supervisor) go too; so does a
        # SIGKILLed leader's whole tree, as when the machine of a worker dies.
        _signal_group(process.pid, signal.SIGKILL)
        for pid in descendants:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop_all(self, timeout: float = 15) -> None:
        """SIGTERM every process group at once, SIGKILL what is left after ``timeout``."""
        processes, self.processes = self.processes, {}
        for process in processes.values():
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            _signal_group(process.pid, signal.SIGKILL)
        for process in processes.values():
            process.wait(10)
        self._kill_strays()

    def _kill_strays(self) -> None:
        """Kill any process still running with this cluster's AIRFLOW_HOME (e.g. one that set up its
        own session); only ever processes this cluster started, found by their environment."""
        marker = f"AIRFLOW_HOME={self.home}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                environ = (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ:
                with suppress(ProcessLookupError):
                    os.kill(int(proc.name), signal.SIGKILL)

    def owner_of(self, pid: int) -> str | None:
        """The name of the started process that ``pid`` descends from (or is), if any."""
        leaders = {process.pid: name for name, process in self.processes.items()}
        while pid > 1:
            if pid in leaders:
                return leaders[pid]
            try:
                pid = _parent(pid)
            except OSError:
                return None
        return None

    def assert_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"airflow {name} exited with {process.returncode}:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, lines: int = 60) -> str:
        logs = sorted(self.home.glob(f"{name}-*.log"))
        if not logs:
            return "(no log)"
        text = logs[-1].read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def scheduler_lines(self, *fragments: str) -> int:
        """How many lines of the scheduler's logs (every generation) contain all of ``fragments``."""
        return sum(
            all(fragment in line for fragment in fragments)
            for log in self.home.glob("scheduler-*.log")
            for line in log.read_text(errors="replace").splitlines()
        )

    def exits_read(self, dag_id: str, task_id: str) -> int:
        """How many of the task's successful exits (a deferral is one) the scheduler has read from its
        executor (any map index).

        ``SchedulerJobRunner._process_executor_events`` logs "Received executor event with state success
        for task instance TaskInstanceKey(...)" for each, on Airflow 2.11 and 3.3 alike. Once it read
        a deferred task's exit, a resume of that try can no longer meet Airflow 3.3's "state changed
        externally" race (docs/deploying.md): the stale event is gone.
        """
        key = f"TaskInstanceKey(dag_id='{dag_id}', task_id='{task_id}',"
        return self.scheduler_lines(f"state success for task instance {key}")

    def diagnostics(self) -> str:
        logs = [
            f"===== airflow {name} =====\n{self.log_tail(name)}"
            for name in PROCESSES
            if self.log_tail(name) != "(no log)"
        ]
        errors = [f"===== DAG import error in {row[0]} =====\n{row[1]}" for row in self.import_errors()]
        return "\n\n".join(logs + errors)

    # -- the metadata DB -------------------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (``?`` placeholders); none while the table does not exist yet."""
        if not self.database_url.startswith("sqlite"):
            return self._query_postgres(sql.replace("?", "%s"), params)
        if not self.db_path.exists():
            return []
        with closing(sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)) as db:
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if "no such table" in str(error) or "locked" in str(error):
                    return []
                raise

    def _query_postgres(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        import psycopg2
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        connection = psycopg2.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, connect_timeout=10
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        except psycopg2.errors.UndefinedTable:
            return []
        finally:
            connection.close()

    def run_state(self, dag_id: str) -> str | None:
        """The state of the DAG's (first) run, once it exists; fails if a process died."""
        self.assert_running()
        rows = self.query("SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id", (dag_id,))
        return str(rows[0][0]) if rows else None

    def finished(self, dag_id: str) -> bool:
        return self.run_state(dag_id) in ("success", "failed")

    def task_states(self, dag_id: str) -> dict[tuple[str, int], tuple[str, int]]:
        """(task_id, map_index) -> (state, try_number)."""
        rows = self.query(
            "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ?", (dag_id,)
        )
        return {(task_id, map_index): (state, tries) for task_id, map_index, state, tries in rows}

    def xcoms(self, dag_id: str, key: str = "return_value") -> dict[tuple[str, int], Any]:
        """(task_id, map_index) -> the XCom's value (stored as JSON text, bytes or a JSON column)."""
        rows = self.query(
            "SELECT task_id, map_index, value FROM xcom WHERE dag_id = ? AND key = ?", (dag_id, key)
        )
        return {(task_id, map_index): _json_value(value) for task_id, map_index, value in rows}

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's runs, oldest first, each with the asset events that triggered it."""
        runs = self.query(
            "SELECT id, run_id, run_type, state FROM dag_run WHERE dag_id = ? ORDER BY id", (dag_id,)
        )
        result = []
        for run_pk, run_id, run_type, state in runs:
            events = self.query(
                "SELECT e.id, e.extra FROM asset_event e JOIN dagrun_asset_event d ON d.event_id = e.id "
                "WHERE d.dag_run_id = ? ORDER BY e.id",
                (run_pk,),
            )
            result.append(
                {
                    "run_id": run_id,
                    "run_type": run_type,
                    "state": state,
                    "events": [{"id": event_id, "extra": json.loads(extra)} for event_id, extra in events],
                }
            )
        return result

    def import_errors(self) -> list[tuple[str, str]]:
        return [
            (str(row[0]), str(row[1])) for row in self.query("SELECT filename, stacktrace FROM import_error")
        ]

    def asset_state(self, asset_name: str, key: str) -> Any:
        rows = self.query(
            "SELECT s.value FROM asset_state_store s JOIN asset a ON a.id = s.asset_id "
            "WHERE a.name = ? AND s.key = ?",
            (asset_name, key),
        )
        return json.loads(rows[0][0]) if rows else None

    def watcher_triggers(self, asset_name: str) -> list[tuple[int, str, int | None]]:
        """(trigger id, classpath, triggerer job id) of every trigger watching ``asset_name``."""
        return [
            (int(row[0]), str(row[1]), row[2])
            for row in self.query(
                "SELECT t.id, t.classpath, t.triggerer_id FROM trigger t "
                "JOIN asset_watcher w ON w.trigger_id = t.id JOIN asset a ON a.id = w.asset_id "
                "WHERE a.name = ?",
                (asset_name,),
            )
        ]


def _json_value(value: Any) -> Any:
    if isinstance(value, memoryview):
        value = bytes(value)
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _parent(pid: int) -> int:
    """The parent's pid: the field after the state in /proc/<pid>/stat (after the ``(comm)``)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...), from /proc."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with suppress(OSError):
                children.setdefault(_parent(int(proc.name)), []).append(int(proc.name))
    found, pending = [], [pid]
    while pending:
        below = children.get(pending.pop(), [])
        found += below
        pending += below
    return found


def _terminate_with_parent() -> None:
    """In the child before exec: SIGTERM it if the test process dies (Linux), so that a killed test
    run leaves no Airflow behind."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
