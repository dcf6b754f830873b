"""A production-shaped Airflow under faults: PostgreSQL, Redis, the CeleryExecutor and two workers.

A throw-away PostgreSQL 15 cluster and Redis broker (``services.py``), and real Airflow processes
(``tests/airflow_cluster.py``: scheduler, triggerer, on Airflow 3 also dag-processor and the execution
API server) with the CeleryExecutor and two Celery workers of 2 slots each, run ``stripe_deployment``:
50 mapped customer creates, 50 mapped charges and three sensors (new charges of customer A,
deferrable; of customer B, ``reschedule``; new refunds of charge 1, ``poke``), all in the pool
``stripe_api``, against the emulator limited to 25 requests a second (Stripe's test-mode limit:
https://docs.stripe.com/rate-limits), 20 of them spent by another integration.

While the run goes on, the test:

1. SIGKILLs the worker running a customer create while its POST is in flight: Stripe has created the
   customer (the emulator's ``latency`` holds the answer back), the answer never arrives. The
   scheduler finds the task without heartbeat, the retry sends the same idempotency key and gets
   the same customer back (https://docs.stripe.com/api/idempotent_requests);
2. SIGKILLs the worker running the ``poke`` sensor while it polls;
3. restarts the triggerer, which holds the deferrable sensor's trigger;
4. restarts the scheduler;

then creates each sensor's batch at one instant. Afterwards the run must have succeeded with exactly
50 customers and 50 charges, each once, and each sensor must have returned exactly its batch.

The export operator (built in another branch) belongs in the same run: add its task to
``DEPLOYMENT_DAG`` and compare its manifest with ``stripe.objects("charge")`` next to the sensor checks.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS
from tests.airflow_cluster import CORE_PROCESSES, AirflowCluster, wait_for
from tests.deployment.services import PostgresServer, RedisServer, missing_binaries
from tests.deployment.stripe_side import (
    OtherTraffic,
    create_sensor_batches,
    create_sensor_targets,
    sensors_polled,
)
from tests.reliability.figures import record

pytestmark = [
    pytest.mark.real_airflow,
    pytest.mark.skipif(
        bool(missing_binaries()),
        reason=f"missing {missing_binaries()} (scripts/test installs them when run as root)",
    ),
]

DAG_ID = "stripe_deployment"
POOL = "stripe_api"
POOL_SLOTS = 4
WORKERS = ("worker-1", "worker-2")
RATE_LIMIT = 25  # Stripe's test mode: 25 requests a second
OTHER_TRAFFIC = 20
OBJECTS = 50
# By name: on Airflow 2, ``email`` is also BaseOperator's alert address, which ``partial()`` sets.
NAMES = [f"deployment buyer {n:02d}" for n in range(OBJECTS)]
ORDERS = [f"deployment order {n:02d}" for n in range(OBJECTS)]
SENSORS = ("charges_of_a", "charges_of_b", "refunds_of_1")
#: (method, path) of every request the DAG's tasks make; the test's own are other paths or methods.
DAG_CALLS = {
    ("POST", "/v1/customers"),
    ("POST", "/v1/charges"),
    ("GET", "/v1/charges"),
    ("GET", "/v1/refunds"),
}

DEPLOYMENT_DAG = """
from datetime import datetime, timedelta

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

from airflow_provider_stripe.operators.stripe import StripeCreateChargeOperator, StripeCreateCustomerOperator
from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewRefundSensor

# Creates retry with the same idempotency key. Sensors retry too: each worker kill can take any
# sensor running there along, and Airflow 3's "state changed externally" race (docs/deploying.md)
# can strike each reschedule or resume: on 2 busy cores the reschedule sensor needed 3 retries once.
CREATING = dict(retries=3, retry_delay=timedelta(seconds=2))
SENSING = dict(priority_weight=100, poke_interval=1, timeout=600, retries=4, retry_delay=timedelta(seconds=1))

with DAG({dag_id!r}, schedule="@once", start_date=datetime(2026, 1, 1), catchup=False,
         default_args=dict(pool={pool!r})):
    StripeNewChargeSensor(task_id="charges_of_a", customer={cus_a!r}, deferrable=True, **SENSING)
    StripeNewChargeSensor(task_id="charges_of_b", customer={cus_b!r}, mode="reschedule", **SENSING)
    StripeNewRefundSensor(task_id="refunds_of_1", charge={ch_1!r}, mode="poke", **SENSING)
    StripeCreateCustomerOperator.partial(task_id="create_customer", **CREATING).expand(name={names!r})
    StripeCreateChargeOperator.partial(
        task_id="create_charge", amount=1500, currency="usd", source="tok_visa", **CREATING
    ).expand(description={orders!r})
"""


@dataclass
class Deployment:
    cluster: AirflowCluster
    stripe: StripeEmulator
    ids: dict[str, str]
    other_traffic: OtherTraffic
    kills: list[str] = field(default_factory=list)


def cluster_env(stripe: StripeEmulator, postgres: PostgresServer, redis: RedisServer) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_STRIPE_DEFAULT": stripe.connection_json(),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",  # = the workers' slots: nothing waits queued
        "AIRFLOW__CELERY__BROKER_URL": redis.url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres.url,
        # A killed worker's tasks are found without heartbeat after 20 s (default 300 s).
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD": "20",  # the same on Airflow 2
        "AIRFLOW__SCHEDULER__ZOMBIE_DETECTION_INTERVAL": "2",
        "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
        # A SIGKILLed worker strands the task messages it had taken from Redis until the broker's
        # visibility timeout (24 h); the scheduler queues such tasks again after this (default 600 s).
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
        # A restarted scheduler adopts the tasks the previous one queued.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "10",
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
    }


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with StripeEmulator() as stripe, PostgresServer() as postgres, RedisServer() as redis:
        ids = create_sensor_targets(stripe)
        cluster = AirflowCluster(
            tmp_path_factory.mktemp("celery") / "airflow", cluster_env(stripe, postgres, redis), postgres.url
        )
        dag = DEPLOYMENT_DAG.format(dag_id=DAG_ID, pool=POOL, names=NAMES, orders=ORDERS, **ids)
        (cluster.dags_folder / f"{DAG_ID}.py").write_text(dag)
        other_traffic = OtherTraffic(stripe, OTHER_TRAFFIC)
        try:
            cluster.migrate()
            # Until the pool exists the scheduler leaves the tasks alone.
            cluster.cli("pools", "set", POOL, str(POOL_SLOTS), "Shared Stripe rate budget")
            stripe.rate_limit(RATE_LIMIT)
            other_traffic.start()
            for name in (*CORE_PROCESSES, *WORKERS):
                cluster.start(name)
            yield Deployment(cluster, stripe, ids, other_traffic)
        except BaseException:
            print(cluster.diagnostics())
            raise
        finally:
            if other_traffic.is_alive():
                other_traffic.stop()
            cluster.stop_all()


def running_pid(cluster: AirflowCluster, task_id: str, map_index: int = -1) -> int | None:
    rows = cluster.query(
        "SELECT pid FROM task_instance "
        "WHERE dag_id = ? AND task_id = ? AND map_index = ? AND state = 'running'",
        (DAG_ID, task_id, map_index),
    )
    return int(rows[0][0]) if rows and rows[0][0] else None


def kill_worker_running(deployment: Deployment, task_id: str, map_index: int = -1) -> str:
    """SIGKILL the Celery worker (its whole process group) that runs the task; start a new one."""
    cluster = deployment.cluster

    def running_worker() -> str | None:
        # The row's pid can be a try that just ended (a retry is queued, the row still says running):
        # only a live process under one of the workers counts.
        pid = running_pid(cluster, task_id, map_index)
        worker = cluster.owner_of(pid) if pid else None
        return worker if worker in WORKERS else None

    worker = wait_for(f"{task_id}[{map_index}] to run under a worker", running_worker, 120)
    cluster.stop(worker, signal.SIGKILL)
    deployment.kills.append(f"{worker} during {task_id}[{map_index}]")
    cluster.start(worker)
    return worker


def customer_in_flight(stripe: StripeEmulator) -> str | None:
    """The name of a customer Stripe has created but whose POST has not been answered yet."""
    answered = {
        r.form.get("name")
        for r in stripe.requests
        if r.method == "POST" and r.path == "/v1/customers" and r.status == 200
    }
    created = [c["name"] for c in stripe.objects("customer") if c.get("name") in NAMES]
    return next((name for name in created if name not in answered), None)


def restart(deployment: Deployment, name: str) -> None:
    deployment.cluster.stop(name)
    deployment.cluster.start(name)


def test_creates_and_sensors_survive_killed_workers_and_restarts(deployment: Deployment) -> None:
    cluster, stripe, ids = deployment.cluster, deployment.stripe, deployment.ids

    def made(kind: str, key: str, values: list[str]) -> list[dict[str, Any]]:
        return [o for o in stripe.objects(kind) if o.get(key) in values]

    try:
        wait_for("the DAG run", lambda: cluster.run_state(DAG_ID), 180)
        wait_for("every sensor's first poll", lambda: sensors_polled(stripe, SENSORS, ids), 180)
        # 1. A worker dies while Stripe is answering one of its creates (the customer exists).
        wait_for("the first 5 customers", lambda: len(made("customer", "name", NAMES)) >= 5, 180)
        stripe.latency = 3.0
        try:
            name = wait_for(
                "a customer create in flight", lambda: customer_in_flight(stripe), 60, interval=0.05
            )
            killed_create = NAMES.index(name)
            kill_worker_running(deployment, "create_customer", killed_create)
        finally:
            stripe.latency = 0
        # 2. A worker dies while the poke sensor polls.
        kill_worker_running(deployment, "refunds_of_1")
        # 3. and 4. The triggerer (holding the deferrable sensor's trigger) and the scheduler restart.
        restart(deployment, "triggerer")
        restart(deployment, "scheduler")
        wait_for("the sensor retries to poll", lambda: running_pid(cluster, "refunds_of_1"), 180)
        wait_for("10 charges", lambda: len(made("charge", "description", ORDERS)) >= 10, 300)
        batches = create_sensor_batches(stripe, ids)
        del batches["refunds_of_2"]  # no sensor for it in this DAG
        wait_for("the DAG run to finish", lambda: cluster.finished(DAG_ID), 600, interval=1)
    except BaseException:
        print(cluster.diagnostics())
        raise
    finally:
        deployment.other_traffic.stop()

    states = cluster.task_states(DAG_ID)
    assert cluster.run_state(DAG_ID) == "success", {k: v for k, v in states.items() if v[0] != "success"}
    assert {state for state, _ in states.values()} == {"success"}
    assert len(states) == 2 * OBJECTS + len(SENSORS)

    # Exactly 50 customers and 50 charges, each once; the killed create's retry got its customer back.
    customers = made("customer", "name", NAMES)
    charges = made("charge", "description", ORDERS)
    assert sorted(c["name"] for c in customers) == sorted(NAMES)
    assert sorted(c["description"] for c in charges) == sorted(ORDERS)
    customer_posts = [r for r in stripe.requests if r.method == "POST" and r.path == "/v1/customers"]
    assert any(r.replayed and r.form.get("name") == name for r in customer_posts), "no idempotent replay"
    assert states[("create_customer", killed_create)][1] >= 2

    returned = cluster.xcoms(DAG_ID)
    assert {i: v["id"] for (t, i), v in returned.items() if t == "create_customer"} == {
        NAMES.index(c["name"]): c["id"] for c in customers
    }
    for sensor, expected in batches.items():
        delivered = [obj["id"] for obj in returned[(sensor, -1)]]
        assert sorted(delivered) == sorted(expected), sensor

    # Both workers ran tasks (Celery logs each task it receives).
    received = {
        worker: sum(
            log.read_text(errors="replace").count("] received")
            for log in cluster.home.glob(f"{worker}-*.log")
        )
        for worker in WORKERS
    }
    assert all(received.values()), received

    dag_requests = [r for r in stripe.requests if (r.method, r.path) in DAG_CALLS]
    statuses = Counter(r.status for r in dag_requests)
    state_mismatches = sum(
        log.read_text(errors="replace").count("reported that the task instance")
        for log in cluster.home.glob("scheduler-*.log")
    )
    figures = {
        "Airflow": f"{'3' if AIRFLOW_V_3_0_PLUS else '2'} CeleryExecutor on PostgreSQL",
        "task runs": sum(tries for _, tries in states.values()),
        "task instances": len(states),
        "tasks received by worker": received,
        "kills": len(deployment.kills),
        "restarts": 2,
        "requests by the DAG": len(dag_requests),
        "429s absorbed": statuses[429],
        "idempotent replays": sum(r.replayed for r in customer_posts),
        "scheduler state-mismatch lines": state_mismatches,
        "customers": len(customers),
        "charges": len(charges),
        "duplicates": len(customers)
        - len({c["name"] for c in customers})
        + len(charges)
        - len({c["description"] for c in charges}),
    }
    print(json.dumps(figures, indent=2))
    record(
        f"deployment: Celery x2 workers on PostgreSQL, {deployment.kills}, triggerer + scheduler restarted",
        "50 mapped customer creates + 50 charges + 3 sensors, 25 rps limit",
        ", ".join(f"{name} {value}" for name, value in figures.items()),
        f"duplicates {figures['duplicates']}, sensor objects missed 0, repeated 0",
    )
    assert figures["duplicates"] == 0
