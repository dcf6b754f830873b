"""Concurrency under a real scheduler: 50 mapped creates and 4 sensors share one Stripe rate budget.

A real Airflow 3.3 (the ``tests/airflow_cluster.py`` harness: dag-processor, scheduler with the
LocalExecutor, triggerer, execution API server, a throw-away AIRFLOW_HOME with SQLite) runs
``stripe_concurrency``: ``StripeCreateCustomerOperator.partial(...).expand(name=<50 names>)`` and
four sensors (new charges of customer A, deferrable; of customer B, reschedule mode; new refunds of
charge 1, deferrable; of charge 2, poke mode), all in the Airflow pool ``stripe_api``. The emulator
answers 429 above 25 requests a second (Stripe's test-mode limit), and another integration on the
same account (a thread of this test) spends 22 of them, so the DAG has about 3 a second and its
bursts are answered with 429s: the hook's retries (exponential backoff with jitter) and, when those
run out, the task's retries (with the same idempotency key, so never a second customer) absorb them.

While the customers are being created, the test creates the objects each sensor waits for, in one
batch that becomes visible in Stripe's lists at one instant. The run must succeed with exactly 50
customers, each name once, and each sensor must return exactly its batch, once.

The same cluster runs the secrets DAG of ``key_leaks.py`` (success and failure of every kind, a
deferred sensor with a restricted key) and the second test reads every file the deployment wrote
(task logs, trigger logs, process logs, the SQLite DB) for the keys.

On Airflow 2.11 the LocalExecutor refuses SQLite: there the deployment's metadata DB is a throw-away
PostgreSQL (``tests/deployment/services.py``), and the leak search also reads its ``pg_dump``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS
from tests.airflow_cluster import CORE_PROCESSES, AirflowCluster
from tests.deployment.services import PostgresServer, missing_binaries
from tests.deployment.stripe_side import (
    SENSOR_FILTERS,
    OtherTraffic,
    create_sensor_batches,
    create_sensor_targets,
    sensors_polled,
)
from tests.reliability.figures import record
from tests.reliability.key_leaks import (
    CASES,
    SECRETS_DAG_ID,
    SENSOR_TASK,
    CanaryStripe,
    canary_key,
    decrypt_trigger_rows,
    files_under,
    find_leaks,
    secrets_dag_source,
)
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.real_airflow,
    # Airflow 2's LocalExecutor refuses SQLite: there the deployment runs on a throw-away PostgreSQL.
    pytest.mark.skipif(
        not AIRFLOW_V_3_0_PLUS and bool(missing_binaries()),
        reason=f"Airflow 2 needs PostgreSQL for the LocalExecutor: missing {missing_binaries()}",
    ),
]

METADATA_DB = "SQLite (Airflow 3)" if AIRFLOW_V_3_0_PLUS else "PostgreSQL (Airflow 2)"
DAG_ID = "stripe_concurrency"
POOL = "stripe_api"
POOL_SLOTS = 4
RATE_LIMIT = 25  # Stripe's test mode: 25 requests a second (live mode: 100)
OTHER_TRAFFIC = 22  # requests a second another integration spends of the same budget
CUSTOMERS = 50
# By name: on Airflow 2, ``email`` is also BaseOperator's alert address, which ``partial()`` sets.
NAMES = [f"concurrency buyer {n:02d}" for n in range(CUSTOMERS)]
#: (method, path) of every request the DAG's tasks make; the test's own are other paths or methods.
#: The sensors of the DAG that defer (the others poke in ``reschedule`` and ``poke`` mode).
DEFERRABLE_SENSORS = ("charges_of_a", "refunds_of_1")
DAG_CALLS = {("POST", "/v1/customers"), ("GET", "/v1/charges"), ("GET", "/v1/refunds")}

CONCURRENCY_DAG = """
from datetime import datetime, timedelta

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_stripe.operators.stripe import StripeCreateCustomerOperator
from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewRefundSensor

# Sensors start first (a higher priority) and poll while the customers are created. Three retries: on
# Airflow 3.2-3.3, a reschedule that comes due within seconds can have its task failed by the
# scheduler (apache/airflow#71172; a resume after a deferral too, #67287 and #72716, which the test
# avoids), and a fresh-clone CI run saw it take both tries of a one-retry `reschedule` sensor; a
# retry delivers the same objects (docs/deploying.md).
SENSING = dict(
    pool={pool!r},
    priority_weight=100,
    poke_interval=1,
    timeout=300,
    retries=3,
    retry_delay=timedelta(seconds=1),
)

with DAG({dag_id!r}, schedule="@once", start_date=datetime(2026, 1, 1), catchup=False):
    StripeCreateCustomerOperator.partial(
        task_id="create_customer", pool={pool!r}, retries=3, retry_delay=timedelta(seconds=2)
    ).expand(name={names!r})
    StripeNewChargeSensor(task_id="charges_of_a", customer={cus_a!r}, deferrable=True, **SENSING)
    StripeNewChargeSensor(task_id="charges_of_b", customer={cus_b!r}, mode="reschedule", **SENSING)
    StripeNewRefundSensor(task_id="refunds_of_1", charge={ch_1!r}, deferrable=True, **SENSING)
    StripeNewRefundSensor(task_id="refunds_of_2", charge={ch_2!r}, mode="poke", **SENSING)
"""


class TriggerWatch(threading.Thread):
    """Keeps every trigger row (kwargs decrypted) it sees, and releases the secrets DAG's deferred
    sensor by creating the charge it waits for once its trigger is stored and the scheduler has read
    the deferred run's exit (sooner, Airflow 3.3's scheduler may fail the task: docs/deploying.md)."""

    def __init__(self, cluster: AirflowCluster, canary: CanaryStripe) -> None:
        super().__init__(name="trigger-watch", daemon=True)
        self.cluster = cluster
        self.canary = canary
        self.rows: set[tuple[str, str]] = set()
        self.released = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        fernet_key = self.cluster.env["AIRFLOW__CORE__FERNET_KEY"]
        while not self.stopping.wait(0.3):
            rows = self.cluster.query("SELECT classpath, kwargs FROM trigger")  # none while locked
            self.rows |= set(decrypt_trigger_rows(rows, fernet_key))
            deferred = any('"stripe_restricted"' in kwargs for _, kwargs in self.rows)
            if (
                deferred
                and not self.released.is_set()
                and self.cluster.exits_read(SECRETS_DAG_ID, SENSOR_TASK)
            ):
                self.canary.create_charge()
                self.released.set()

    def stop(self) -> None:
        self.stopping.set()
        self.join()


@dataclass
class Deployment:
    cluster: AirflowCluster
    stripe: StripeEmulator
    canary: CanaryStripe
    #: The objects the sensors filter on: customers A and B, charges 1 and 2.
    ids: dict[str, str]
    triggers: TriggerWatch
    other_traffic: OtherTraffic
    #: The metadata DB on Airflow 2 (on Airflow 3: SQLite, a file under AIRFLOW_HOME).
    postgres: PostgresServer | None


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with ExitStack() as services:
        stripe = services.enter_context(StripeEmulator(api_key=canary_key()))
        canary = services.enter_context(CanaryStripe())
        postgres = None if AIRFLOW_V_3_0_PLUS else services.enter_context(PostgresServer())
        ids = create_sensor_targets(stripe)
        cluster = AirflowCluster(
            tmp_path_factory.mktemp("cluster") / "airflow",
            {
                "AIRFLOW_CONN_STRIPE_DEFAULT": stripe.connection_json(),
                **canary.env(),
                "AIRFLOW__CORE__PARALLELISM": "4",
            },
            postgres.url if postgres else None,
        )
        dag = CONCURRENCY_DAG.format(dag_id=DAG_ID, pool=POOL, names=NAMES, **ids)
        (cluster.dags_folder / f"{DAG_ID}.py").write_text(dag)
        (cluster.dags_folder / f"{SECRETS_DAG_ID}.py").write_text(secrets_dag_source(schedule="@once"))
        other_traffic = OtherTraffic(stripe, OTHER_TRAFFIC)
        triggers = TriggerWatch(cluster, canary)
        try:
            cluster.migrate()
            stripe.rate_limit(RATE_LIMIT)
            other_traffic.start()
            for name in CORE_PROCESSES:
                cluster.start(name)
            triggers.start()
            # Until the pool exists the scheduler leaves its tasks alone (the CLI takes a few seconds).
            cluster.cli("pools", "set", POOL, str(POOL_SLOTS), "Shared Stripe rate budget")
            yield Deployment(cluster, stripe, canary, ids, triggers, other_traffic, postgres)
        except BaseException:
            print(cluster.diagnostics())
            raise
        finally:
            if other_traffic.is_alive():
                other_traffic.stop()
            if triggers.is_alive():
                triggers.stop()
            cluster.stop_all()


def as_datetime(value: str | datetime) -> datetime:
    """A timestamp column's value: text from SQLite, a datetime from PostgreSQL."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def log_lines(cluster: AirflowCluster, dag_id: str, fragment: str) -> int:
    """How many lines of the DAG's task (and trigger) log files contain ``fragment``."""
    return sum(
        line.count(fragment)
        for path in (cluster.home / "logs" / f"dag_id={dag_id}").rglob("*")
        if path.is_file()
        for line in path.read_text(errors="replace").splitlines()
    )


def test_fifty_mapped_creates_and_four_sensors_share_a_rate_limited_budget(deployment: Deployment) -> None:
    cluster, stripe, ids = deployment.cluster, deployment.stripe, deployment.ids

    def customers() -> list[dict[str, Any]]:
        return [c for c in stripe.objects("customer") if c.get("name") in NAMES]

    try:
        wait_for("the concurrency DAG run", lambda: cluster.run_state(DAG_ID), 120)
        wait_for("every sensor's first poll", lambda: sensors_polled(stripe, SENSOR_FILTERS, ids), 120)
        # The deferrable sensors avoid Airflow 3.3's "state changed externally" race: their batches
        # come only once the scheduler has read their deferral's exit, so no stale exit can meet the
        # resumed run (docs/deploying.md). The reschedule sensor cannot avoid it (each poke exits and
        # comes due again on its own): its retries absorb it, and it must still deliver exactly.
        wait_for(
            "the scheduler to read the deferrable sensors' deferrals",
            lambda: all(cluster.exits_read(DAG_ID, task_id) for task_id in DEFERRABLE_SENSORS),
            120,
        )
        wait_for("the first 10 customers", lambda: len(customers()) >= 10, 120)
        batches = create_sensor_batches(stripe, ids)
        wait_for("the DAG run to finish", lambda: cluster.finished(DAG_ID), 240, interval=1)
    finally:
        deployment.other_traffic.stop()

    states = cluster.task_states(DAG_ID)
    assert cluster.run_state(DAG_ID) == "success", {k: v for k, v in states.items() if v[0] != "success"}
    assert len(states) == CUSTOMERS + 4
    assert {state for state, _ in states.values()} == {"success"}

    # Exactly 50 customers, each name once, and each task's XCom holds its own.
    made = customers()
    assert sorted(c["name"] for c in made) == sorted(NAMES)
    returned = cluster.xcoms(DAG_ID)
    by_index = {index: value for (task_id, index), value in returned.items() if task_id == "create_customer"}
    assert {index: value["name"] for index, value in by_index.items()} == dict(enumerate(NAMES))
    assert sorted(value["id"] for value in by_index.values()) == sorted(c["id"] for c in made)

    # Each sensor returned its batch, each object once.
    for sensor, expected in batches.items():
        delivered = [obj["id"] for obj in returned[(sensor, -1)]]
        assert sorted(delivered) == sorted(expected), sensor
        assert len(set(delivered)) == len(delivered), sensor

    # The figures.
    dag_requests = [r for r in stripe.requests if (r.method, r.path) in DAG_CALLS]
    statuses = Counter(r.status for r in dag_requests)
    other_429 = sum(1 for r in stripe.requests if r.path == "/v1/balance" and r.status == 429)
    creates = [r for r in dag_requests if r.method == "POST"]
    task_retries = sum(
        tries - 1 for (task_id, _), (_, tries) in states.items() if task_id == "create_customer"
    )
    sensor_retries = sum(tries - 1 for (task_id, _), (_, tries) in states.items() if task_id in batches)
    # Airflow 3.3's "state changed externally" lines, per sensor (Airflow 2.11 logs none).
    mismatches = {
        task_id: cluster.scheduler_lines("reported that the task instance", f"{DAG_ID}.{task_id} ")
        for task_id in batches
    }
    deferred_mismatches = sum(mismatches[task_id] for task_id in DEFERRABLE_SENSORS)
    other_mismatches = sum(mismatches.values()) - deferred_mismatches
    ((started, ended),) = cluster.query(
        "SELECT start_date, end_date FROM dag_run WHERE dag_id = ?", (DAG_ID,)
    )
    seconds = (as_datetime(ended) - as_datetime(started)).total_seconds()
    figures = {
        "requests by the DAG": len(dag_requests),
        "429s answered to the DAG": statuses[429],
        "429s answered to the other integration": other_429,
        "hook retries (task and trigger logs)": log_lines(cluster, DAG_ID, "Stripe call failed"),
        "customer POSTs": len(creates),
        "idempotent replays": sum(r.replayed for r in creates),
        "task retries": task_retries,
        "sensor retries": sensor_retries,
        "state-mismatch lines (deferrable sensors / others)": f"{deferred_mismatches} / {other_mismatches}",
        "run seconds": round(seconds, 1),
        "customers": len(made),
        "duplicates": len(made) - len({c["name"] for c in made}),
    }
    print(json.dumps(figures, indent=2))
    record(
        f"concurrency: 50 mapped creates + 4 sensors, LocalExecutor on {METADATA_DB}",
        f"25 rps limit ({OTHER_TRAFFIC} rps taken by other traffic), pool {POOL}={POOL_SLOTS}",
        ", ".join(f"{name} {value}" for name, value in figures.items()),
        "duplicates 0, sensor objects missed 0, repeated 0",
    )
    assert figures["429s answered to the DAG"] > 0, "the rate limit was never hit: the test proves nothing"
    assert figures["duplicates"] == 0
    assert [mismatches[t] for t in DEFERRABLE_SENSORS] == [0, 0], "a deferrable sensor met the race"


def test_local_executor_runs_leave_no_key_anywhere(deployment: Deployment) -> None:
    """The secrets DAG under the scheduler: every file the deployment wrote, and the trigger rows."""
    cluster, canary = deployment.cluster, deployment.canary
    wait_for("the secrets DAG run to finish", lambda: cluster.finished(SECRETS_DAG_ID), 240, interval=1)
    deployment.triggers.stop()

    states = cluster.task_states(SECRETS_DAG_ID)
    for case in CASES:
        assert states[(case.task_id, -1)][0] == ("success" if case.succeeds else "failed"), case.task_id
        log = task_log(cluster, SECRETS_DAG_ID, case.task_id)
        if case.error:
            assert case.error in log, (case.task_id, log[-2000:])

    # What the search must have covered: rendered fields, XComs, the deferred sensor's trigger.
    rendered = cluster.query(
        "SELECT rendered_fields FROM rendered_task_instance_fields WHERE dag_id = ? AND task_id = ?",
        (SECRETS_DAG_ID, "product_secret_key"),
    )
    assert "Canary product" in json.dumps(rendered[0][0])
    returned = cluster.xcoms(SECRETS_DAG_ID)
    assert returned[("product_secret_key", -1)]["id"].startswith("prod_")
    assert len(returned[(SENSOR_TASK, -1)]) == 1
    triggers = {kwargs: classpath for classpath, kwargs in deployment.triggers.rows}
    assert any('"stripe_restricted"' in kwargs for kwargs in triggers), "never saw the sensor's trigger"
    assert "sk_test_..." in task_log(cluster, SECRETS_DAG_ID, "product_secret_key"), "not the hook's log?"

    cluster.stop_all()  # so that every log and the DB are complete on disk
    texts: dict[str, str | bytes] = dict(files_under(cluster.home))
    if deployment.postgres:
        texts["pg_dump of the metadata DB"] = deployment.postgres.dump()
    texts |= {f"trigger row {classpath}": kwargs for kwargs, classpath in triggers.items()}
    # Airflow 3.3.2's task supervisor also echoes each task's log lines to the scheduler's own console,
    # and masks nothing there (a control task printing its connection's password shows it in the
    # clear). The provider writes no key, but the HTTP debug output of ``http_debug_output`` prints
    # the Authorization header: its echo, a ``[task.stdout]`` line, is the one line left out.
    for name in [name for name in texts if re.fullmatch(r"scheduler-\d+\.log", name)]:
        lines = bytes(texts[name]).decode(errors="replace").splitlines()
        texts[name] = "\n".join(line for line in lines if not line.endswith("[task.stdout]"))
    keys = {**canary.keys, "concurrency DAG's key": deployment.stripe.api_key}
    assert find_leaks(keys, texts) == []
    task_logs = [name for name in texts if name.startswith("logs/dag_id=")]
    record(
        f"secrets: LocalExecutor on {METADATA_DB}",
        "every case + the concurrency DAG; every file under AIRFLOW_HOME (task, trigger and process "
        "logs but the scheduler's unmasked echo of task stdout, the metadata DB), trigger kwargs decrypted",
        f"{len(texts)} files/rows ({len(task_logs)} task/trigger log files), {len(triggers)} trigger rows",
        "no key",
    )


def task_log(cluster: AirflowCluster, dag_id: str, task_id: str) -> str:
    folder = cluster.home / "logs" / f"dag_id={dag_id}"
    return "\n".join(
        path.read_text(errors="replace") for path in sorted(folder.glob(f"run_id=*/task_id={task_id}/*"))
    )
