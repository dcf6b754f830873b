"""The Stripe API key never appears where Airflow shows, stores or logs things.

Every key is a recognisable canary (``sk_test_LeakCanary…``, and the emulator's own ``rk_test_`` and
``sk_live_`` keys), searched for as its secret part (all but the ``sk_test_`` prefix and the last 4
characters that the hook's log line shows) and as the HTTP Basic token that carries it. The DAG in
``key_leaks.py`` uses the keys in every way a task ends: a product with a secret and a live key, a
deferred new-charge sensor with a restricted key, a wrong key (401), a restricted key lacking a
permission (403), a server error (500), a fractional amount (local validation), plain http:// to a
non-loopback host (refused before sending), and a closed loopback port (no answer).

Three angles, on Airflow 3.3.2 and 2.11.2:

- in-process, without Airflow's masker in the way: ``repr()``/``str()`` of hooks, operators,
  settings and triggers; every exception's text and traceback; every log line the provider wrote
  (raw, captured before any masking); and ``redact()`` masking the key once the hook read it;
- ``dag.test()`` of the DAG: the XCom values and rendered template fields it stored, and the whole
  metadata DB file;
- ``airflow tasks test`` of every task in a throw-away AIRFLOW_HOME: its stdout and stderr, every
  file under that home (logs, the SQLite DB), and the trigger row (kwargs decrypted) of the sensor
  while it is deferred.

The same DAG under a real scheduler (LocalExecutor, task log files, the triggerer) is in
``test_concurrency.py``, which owns the Airflow 3.3 cluster.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import redact

from airflow_provider_stripe.exceptions import StripeError
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.operators.stripe import StripeCreateChargeOperator, StripeCreateProductOperator
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor
from airflow_provider_stripe.triggers.stripe import StripeNewObjectsTrigger
from tests.dag_runs import AIRFLOW_3, load_dag, run_dag, write_dag
from tests.reliability.figures import record
from tests.reliability.key_leaks import (
    CASES,
    SECRETS_DAG_ID,
    SENSOR_TASK,
    CanaryStripe,
    Case,
    decrypted_trigger_kwargs,
    files_under,
    find_leaks,
    needles,
    secrets_dag_source,
)
from tests.waiting import wait_for

AIRFLOW = Path(sys.executable).with_name("airflow")
FAILURES = [case for case in CASES if not case.succeeds]


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch) -> Iterator[CanaryStripe]:
    """The canary emulators, with every connection of the secrets DAG in this process's environment."""
    with CanaryStripe() as stripe:
        for name, value in stripe.env().items():
            monkeypatch.setenv(name, value)
        yield stripe


class RawLog:
    """Everything the provider logs, before Airflow's masker sees it: stdlib records (caplog) and, on
    Airflow 3, the structlog lines hooks and operators print (capfd)."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
        self.caplog = caplog
        self.capfd = capfd
        caplog.set_level(logging.DEBUG)

    def take(self) -> str:
        """What was logged since the last call."""
        out, err = self.capfd.readouterr()
        records = "\n".join(f"{r.name} {r.getMessage()}" for r in self.caplog.records)
        self.caplog.clear()
        return "\n".join((records, out, err))


def _context(task_id: str) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="in_process", task_id=task_id, run_id="manual__1", map_index=-1)
    return {"ti": ti}


# -- in-process ------------------------------------------------------------------------------------


def test_reprs_hide_the_key_and_the_masker_knows_it(
    canary: CanaryStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_conn = {
        "stripe_canary": canary.secret_key,
        "stripe_restricted": canary.restricted_key,
        "stripe_live": canary.live_key,
        "stripe_wrong_key": canary.wrong_key,
        "stripe_padded": canary.padded_key,
    }
    texts: dict[str, str] = {}
    unmasked: list[str] = []
    for conn_id, key in by_conn.items():
        hook = StripeHook(conn_id)
        texts[f"repr(hook) {conn_id}, unused"] = repr(hook)
        settings = hook.settings
        texts[f"repr/str(hook) {conn_id}"] = f"{hook!r} {hook!s}"
        texts[f"settings {conn_id}"] = (
            f"{settings!r} {settings!s} {settings.api_key!r} {settings.api_key.hint}"
        )
        texts[f"hook mode/kind {conn_id}"] = f"{hook.mode} {hook.key_kind}"
        # The hook registered the key with Airflow's secrets masker, as sent: bare, and as the
        # Authorization header's token (which HTTP debug output prints).
        token = needles(key)["Basic token"]
        for form, text in (("key", key), ("Basic token", token)):
            if redact(f"<{text}>") != "<***>":
                unmasked.append(f"{conn_id}: {form}")
        operator = StripeCreateProductOperator(task_id=f"product_{conn_id}", name="x", stripe_conn_id=conn_id)
        _ = operator.hook.settings
        texts[f"operator {conn_id}"] = f"{operator!r} {operator!s} {operator.hook!r}"
        sensor = StripeNewChargeSensor(task_id=f"sensor_{conn_id}", stripe_conn_id=conn_id, deferrable=True)
        texts[f"sensor {conn_id}"] = f"{sensor!r} {sensor!s} {sensor.hook!r}"
        trigger = StripeNewObjectsTrigger(
            path="/v1/charges", cursor=Cursor.starting_at(0).to_json(), stripe_conn_id=conn_id
        )
        texts[f"serialized trigger {conn_id}"] = json.dumps(trigger.serialize())
        texts[f"repr(trigger) {conn_id}"] = repr(trigger)

    # A connection refused before any request still registers its key: it may be logged later.
    unsent = "sk_test_LeakCanaryUnsent0123456789abcdef"
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_UNSENT",
        json.dumps({"conn_type": "stripe", "password": unsent, "host": "http://stripe.example.com"}),
    )
    with pytest.raises(StripeError, match="plain HTTP") as refused:
        _ = StripeHook("stripe_unsent").settings
    texts["plain-http refusal"] = str(refused.value)
    if redact(unsent) != "***":
        unmasked.append("stripe_unsent: key")

    assert find_leaks({**canary.keys, "unsent key": unsent}, texts) == []
    assert unmasked == [], unmasked
    record(
        "secrets: repr/str, masker",
        "repr/str of hook, settings, operator, sensor, trigger; redact() after the hook read the key",
        f"{len(texts)} texts, 6 keys (sk_test, rk_test, sk_live, wrong, padded, refused)",
        "no key; every key masked by redact()",
    )


def test_failures_and_the_provider_logs_name_no_key(
    canary: CanaryStripe, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    raw = RawLog(caplog, capfd)
    # Control: a key logged by the hook's logger shows up in what is searched (nothing masks it).
    control_hook = StripeHook("stripe_canary")
    control_hook.log.info("control line %s", canary.secret_key)
    assert find_leaks({"control": canary.secret_key}, {"raw log": raw.take()}), "raw log capture is blind"

    texts: dict[str, str] = {}
    operators: dict[str, Any] = {
        "wrong_key_401": StripeCreateProductOperator(
            task_id="wrong_key_401", name="No", stripe_conn_id="stripe_wrong_key"
        ),
        "restricted_key_403": StripeCreateChargeOperator(
            task_id="restricted_key_403",
            amount=500,
            currency="usd",
            source="tok_visa",
            stripe_conn_id="stripe_restricted",
        ),
        "server_error_500": StripeCreateChargeOperator(
            task_id="server_error_500",
            amount=500,
            currency="usd",
            source="tok_visa",
            stripe_conn_id="stripe_broken",
        ),
        "fractional_amount": StripeCreateChargeOperator(
            task_id="fractional_amount",
            amount="{{ 3 / 2 }}",
            currency="usd",
            source="tok_visa",
            stripe_conn_id="stripe_canary",
        ),
        "plain_http_host": StripeCreateProductOperator(
            task_id="plain_http_host", name="No", stripe_conn_id="stripe_plain_http"
        ),
        "closed_port": StripeCreateProductOperator(
            task_id="closed_port", name="No", stripe_conn_id="stripe_closed_port"
        ),
    }
    operators["fractional_amount"].amount = "1.5"  # as rendered
    for case in FAILURES:
        with pytest.raises(StripeError) as caught:
            operators[case.task_id].execute(_context(case.task_id))
        error = caught.value
        assert type(error).__name__ == case.error, (case.task_id, error)
        texts[f"{case.task_id}: exception"] = "\n".join(
            (str(error), repr(error), error.message, repr(error.args), *traceback.format_exception(error))
        )
    texts["raw provider log"] = raw.take()

    # The deferrable sensor's trigger: its payload, and its error event for a bad key.
    trigger = StripeNewObjectsTrigger(
        path="/v1/charges", cursor=Cursor.starting_at(0).to_json(), stripe_conn_id="stripe_wrong_key"
    )
    events = _trigger_events(trigger)
    assert [(event["status"], event["error_class"]) for event in events] == [
        ("error", "StripeAuthenticationError")
    ]
    texts["trigger payload"] = json.dumps(trigger.serialize())
    texts["trigger error event"] = json.dumps(events)
    texts["raw log of the trigger"] = raw.take()

    assert "sk_test_..." in texts["raw provider log"], "the hook's connection line is missing"
    assert find_leaks(canary.keys, texts) == []
    record(
        "secrets: failures in-process",
        "401, 403, 500, fractional amount, plain http, closed port; trigger error event",
        f"{len(FAILURES)} failures + 1 trigger; exception str/repr/traceback + raw logs",
        "no key",
    )


def _trigger_events(trigger: StripeNewObjectsTrigger) -> list[dict[str, Any]]:
    import asyncio

    async def first_event() -> list[dict[str, Any]]:
        async for event in trigger.run():
            return [event.payload]
        return []

    return asyncio.run(first_event())


def test_dag_test_stores_no_key(canary: CanaryStripe) -> None:
    """XComs, rendered template fields and the whole metadata DB after ``dag.test()`` of the DAG."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    dag_id = f"{SECRETS_DAG_ID}_dag_test"
    cases = [case for case in CASES if case.task_id != SENSOR_TASK]  # it would wait for a charge
    dag = load_dag(write_dag(dag_id, secrets_dag_source(cases, dag_id=dag_id)), dag_id)
    result = run_dag(dag, datetime(2026, 2, 3))

    for case in cases:
        assert result.state_of(case.task_id) == ("success" if case.succeeds else "failed"), case.task_id
    texts = {f"xcom {key}": json.dumps(value, default=str) for key, value in result.xcoms.items()}
    with create_session() as session:
        rendered = session.query(RenderedTaskInstanceFields).filter(
            RenderedTaskInstanceFields.dag_id == dag_id,
            RenderedTaskInstanceFields.run_id == result.run_id,
        )
        texts |= {f"rendered {row.task_id}": json.dumps(row.rendered_fields, default=str) for row in rendered}
    assert "Canary product 2026-02-03" in texts["rendered product_secret_key"]
    assert result.xcom("product_secret_key")["id"].startswith("prod_")
    for db_file in Path(os.environ["AIRFLOW_HOME"]).glob("airflow.db*"):  # with its journal, if any
        texts[f"session DB {db_file.name}"] = db_file.read_bytes()
    assert find_leaks(canary.keys, texts) == []
    record(
        "secrets: dag.test()",
        "XCom values, rendered template fields, the whole metadata DB file",
        f"{len(cases)} tasks ({sum(c.succeeds for c in cases)} succeed)",
        "no key",
    )


# -- airflow tasks test ----------------------------------------------------------------------------

_OUTCOME = re.compile(r"new_state=(success|failed)|Marking task as (SUCCESS|FAILED)")


@dataclass
class TasksTest:
    """One ``airflow tasks test`` process and what it printed."""

    case: Case
    returncode: int
    output: str
    seconds: float
    #: (classpath, decrypted kwargs) of the trigger rows seen while the sensor was deferred.
    triggers: list[tuple[str, str]]

    @property
    def outcome(self) -> str | None:
        states = [first or second.lower() for first, second in _OUTCOME.findall(self.output)]
        if states:
            return states[-1]
        # Airflow 2.11 says nothing more after a deferred task resumed and returned.
        resumed = "[TASK TEST] Trigger completed" in self.output
        return "success" if resumed and self.returncode == 0 else None


class TasksTestHome:
    """A throw-away AIRFLOW_HOME with the secrets DAG, where ``airflow tasks test`` runs each task."""

    def __init__(self, home: Path, stripe: CanaryStripe) -> None:
        from cryptography.fernet import Fernet

        self.home = home
        self.stripe = stripe
        (home / "dags").mkdir(parents=True)
        (home / "dags" / f"{SECRETS_DAG_ID}.py").write_text(secrets_dag_source())
        self.fernet_key = Fernet.generate_key().decode()
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AIRFLOW_", "AIRFLOW__", "_AIRFLOW"))
        }
        self.env |= {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            **stripe.env(),
        }

    def migrate(self) -> None:
        subprocess.run(
            [str(AIRFLOW), "db", "migrate"], env=self.env, check=True, capture_output=True, timeout=300
        )

    def run(self, case: Case, day: int) -> TasksTest:
        """``airflow tasks test <dag> <task> 2026-01-<day>`` (its own logical date: runs may overlap)."""
        started = time.monotonic()
        process = subprocess.Popen(
            [str(AIRFLOW), "tasks", "test", SECRETS_DAG_ID, case.task_id, f"2026-01-{day:02d}"],
            env=self.env,
            cwd=self.home,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        triggers: list[tuple[str, str]] = []
        if case.task_id == SENSOR_TASK:
            triggers = self._release_sensor(process)
        try:
            output, _ = process.communicate(timeout=180)
        except subprocess.TimeoutExpired:  # a sensor never released: its trigger loop ignores SIGTERM
            process.kill()
            output, _ = process.communicate()
        return TasksTest(case, process.returncode, output, time.monotonic() - started, triggers)

    def _release_sensor(self, process: subprocess.Popen[str]) -> list[tuple[str, str]]:
        """Wait until the sensor is deferred (its trigger row exists), keep the row, then create the
        charge it waits for."""

        def sensor_triggers() -> list[tuple[str, str]]:
            return [row for row in self._trigger_rows() if "StripeNewObjectsTrigger" in row[0]]

        # Generous: on a loaded machine one `airflow tasks test` took more than 2 minutes to defer.
        wait_for("the sensor's trigger row", lambda: process.poll() is not None or sensor_triggers(), 900)
        triggers = sensor_triggers()
        self.stripe.create_charge()
        return triggers

    def _trigger_rows(self) -> list[tuple[str, str]]:
        import sqlite3

        try:
            return decrypted_trigger_kwargs(self.home / "airflow.db", self.fernet_key)
        except sqlite3.OperationalError:  # locked by a writer for a moment
            return []


@pytest.fixture(scope="module")
def tasks_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TasksTestHome, list[TasksTest]]]:
    """Every case through ``airflow tasks test``: the first alone (it writes the DAG to the DB), the
    rest two at a time (the machine has two cores)."""
    with CanaryStripe() as stripe:
        home = TasksTestHome(tmp_path_factory.mktemp("tasks-test") / "airflow", stripe)
        home.migrate()
        first, *rest = CASES
        runs = [home.run(first, 1)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs += pool.map(home.run, rest, range(2, 2 + len(rest)))
        yield home, runs


@pytest.mark.parametrize("case", CASES, ids=[case.task_id for case in CASES])
def test_tasks_test_ends_as_expected(case: Case, tasks_tests: tuple[TasksTestHome, list[TasksTest]]) -> None:
    _, runs = tasks_tests
    (run,) = [run for run in runs if run.case == case]
    assert run.outcome == ("success" if case.succeeds else "failed"), run.output[-3000:]
    if case.error:
        assert f"airflow_provider_stripe.exceptions.{case.error}" in run.output, run.output[-3000:]


def test_tasks_test_output_files_and_trigger_hold_no_key(
    tasks_tests: tuple[TasksTestHome, list[TasksTest]],
) -> None:
    home, runs = tasks_tests
    texts: dict[str, str | bytes] = {f"output of {run.case.task_id}": run.output for run in runs}
    texts |= {f"$AIRFLOW_HOME/{name}": data for name, data in files_under(home.home).items()}
    (sensor_run,) = [run for run in runs if run.case.task_id == SENSOR_TASK]
    assert sensor_run.triggers, "the sensor never deferred"
    for classpath, kwargs in sensor_run.triggers:
        # Airflow 2.11 wraps them in its serialization envelope ({"__var": ..., "__type": "dict"}).
        assert '"stripe_conn_id": "stripe_restricted"' in kwargs, kwargs
        texts[f"trigger row {classpath}"] = kwargs
    assert find_leaks(home.stripe.keys, texts) == []
    seconds = sorted(round(run.seconds) for run in runs)
    record(
        f"secrets: airflow tasks test (Airflow {'3' if AIRFLOW_3 else '2'})",
        "every case; stdout+stderr, every file under AIRFLOW_HOME, the deferred trigger's kwargs",
        f"{len(runs)} processes ({seconds[0]}-{seconds[-1]} s each), {len(texts)} texts",
        "no key",
    )
