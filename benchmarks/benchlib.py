"""What every benchmark here shares: statistics, Markdown output, a throw-away Airflow home, the
emulator in its own process, fast seeding, and a task-instance stand-in for sensor pokes.

Not a benchmark itself. The scripts import it as ``benchlib`` (they run as ``python benchmarks/x.py``,
so this directory is on ``sys.path``); importing it puts the checkout first on the path, so a script
measures the code in front of you, not an older installed copy. Nothing here imports Airflow: a
script first calls :func:`isolated_airflow_home`, then imports Airflow and the provider inside its
functions.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"

# Measure the checkout, not whatever copy of the provider is installed (as the tests do); the
# scripts' subprocesses inherit it through PYTHONPATH.
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


# -- statistics ----------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (nearest rank, so p99 of 100 values is the 99th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> str:
    """``min-max`` of ``values``, for the variance column."""
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


# -- output --------------------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table; numbers right-aligned."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    numeric = [
        all(isinstance(row[i], (int, float)) or _looks_numeric(str(row[i])) for row in rows)
        for i in range(len(headers))
    ]
    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---:" if num else "---" for num in numeric) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _looks_numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace("x", "").replace("%", "").replace(" ms", "").strip()
    try:
        float(stripped)
    except ValueError:
        return False
    return True


def command_line(argv: Sequence[str] | None = None) -> str:
    """How this script was run, relative to the repository, for the top of its report."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    return shlex.join(["python", str(shown), *argv[1:]])


def environment(with_airflow: bool = True) -> str:
    """Airflow version, Python, cores and load: the context a number needs to be read."""
    from importlib.metadata import version

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    parts = [f"Airflow {version('apache-airflow')}"] if with_airflow else []
    parts += [
        f"Python {platform.python_version()}",
        f"{os.cpu_count()} cores",
        f"load average before the run {load}",
    ]
    return ", ".join(parts)


@dataclass
class Verdict:
    target: str
    met: bool
    measured: str

    def line(self) -> str:
        return f"- {'**met**' if self.met else '**MISSED**'}: {self.target} (measured: {self.measured})"


@dataclass
class Report:
    """One benchmark's output: a heading, the command, the environment, tables, verdicts, notes."""

    title: str
    command: str = field(default_factory=command_line)
    env: str = field(default_factory=environment)
    sections: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> None:
        self.sections.append((f"{caption}\n\n" if caption else "") + markdown_table(headers, rows))

    def verdict(self, target: str, met: bool, measured: str) -> None:
        self.verdicts.append(Verdict(target, met, measured))

    def render(self) -> str:
        parts = [f"### {self.title}", f"`{self.command}`  \n{self.env}", *self.sections]
        if self.verdicts:
            parts.append("Targets:\n\n" + "\n".join(v.line() for v in self.verdicts))
        if self.notes:
            parts.append("\n".join(f"- {note}" for note in self.notes))
        return "\n\n".join(parts) + "\n"

    def print(self) -> None:
        print(self.render(), flush=True)


# -- Airflow and the emulator --------------------------------------------------------------------


def isolated_airflow_home() -> Path:
    """Point Airflow at a throw-away home (unless one is set), before Airflow is imported."""
    if "AIRFLOW_HOME" not in os.environ:
        home = Path(tempfile.mkdtemp(prefix="airflow-provider-stripe-bench-"))
        os.environ["AIRFLOW_HOME"] = str(home)
        os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(home / "dags"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__LAZY_LOAD_PLUGINS", "True")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    return Path(os.environ["AIRFLOW_HOME"])


class EmulatorProcess:
    """``python -m airflow_provider_stripe.testing`` in a child process on 127.0.0.1 (a free port).

    A separate process keeps the emulator's CPU time and memory out of what a benchmark measures,
    as Stripe's servers would be. Use as a context manager; the child is killed on exit.
    """

    def __init__(
        self, python: str = sys.executable, *, flags: Sequence[str] = ("--rate-limit", "none")
    ) -> None:
        self._python = python
        #: The command's settings; by default no rate limit: most benchmarks measure something else.
        self._flags = list(flags)
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.api_key = ""

    def __enter__(self) -> EmulatorProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            [
                self._python,
                "-m",
                "airflow_provider_stripe.testing",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                *self._flags,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self._process = process
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Stripe emulator listening on "):
                self.base_url = line.split()[-1]
            elif line.startswith("Test API key: "):
                self.api_key = line.split()[-1]
            if self.base_url and self.api_key:
                break
        else:
            raise RuntimeError("the emulator process exited before it printed its address")
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def connection_json(self, extra: dict[str, Any] | None = None) -> str:
        connection: dict[str, Any] = {"conn_type": "stripe", "password": self.api_key, "host": self.base_url}
        if extra:
            connection["extra"] = extra
        return json.dumps(connection)

    def __exit__(self, *exc: object) -> None:
        # It holds nothing worth a graceful stop, which would wait for idle keep-alive connections.
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


def create_charges(base_url: str, api_key: str, count: int, *, threads: int = 4) -> list[str]:
    """Create ``count`` charges over HTTP (keep-alive sessions, a few in parallel); their ids, in
    creation order within each thread (overall order is by ``created`` then the emulator's order)."""
    import requests

    ids: list[list[str]] = [[] for _ in range(threads)]

    def work(slot: int) -> None:
        with requests.Session() as session:
            session.auth = (api_key, "")
            for _ in range(slot, count, threads):
                answer = session.post(
                    f"{base_url}/v1/charges",
                    data={"amount": 500, "currency": "usd", "source": "tok_visa"},
                    timeout=30,
                )
                answer.raise_for_status()
                ids[slot].append(answer.json()["id"])

    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    made = [charge_id for chunk in ids for charge_id in chunk]
    if len(made) != count:
        raise RuntimeError(f"created {len(made)} charges of {count}")
    return made


class TaskInstanceStandIn:
    """Just enough of a task instance for a sensor's ``poke``: XComs kept across "runs".

    ``xcom_pull(..., include_prior_dates=True)`` returns the newest value pushed by any run, which
    is what Airflow returns for the sensor's cursor when ``map_indexes`` is given.
    """

    def __init__(self, task_id: str = "new_charges") -> None:
        self.task_id = task_id
        self.map_index = -1
        self.run_id = "run_1"  # a sensor reads its cursor from XCom again in another run
        self.try_number = 1
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: Any = None, key: str = "return_value", **kwargs: Any) -> Any:
        return self.xcoms.get(key)


def poked_objects(found: object) -> list[dict[str, Any]]:
    """What a sensor's ``poke`` delivered: ``False``, or a ``PokeReturnValue`` holding the objects."""
    objects: list[dict[str, Any]] = getattr(found, "xcom_value", None) or []
    return objects


def poke_context(ti: TaskInstanceStandIn) -> Any:
    """A minimal task context: the sensors read ``ti`` (and ``dag_run`` only without ``start_from``)."""
    return {"ti": ti}


@contextmanager
def stdout_to_file(prefix: str = "stripe-bench-") -> Iterator[Path]:
    """Send whatever this process writes to stdout (Airflow's log lines) into a temporary file.

    Airflow's logging config writes to stdout, through handlers and loggers made at import time;
    swapping file descriptor 1 catches them all while keeping their formatting cost, as when a
    task's log goes to a file. The report is printed after the block, to the real stdout.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
    os.dup2(handle, 1)
    try:
        yield Path(name)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(handle)
        os.unlink(name)
