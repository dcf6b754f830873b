"""A production-shaped Airflow under faults: PostgreSQL, Redis, the CeleryExecutor and two workers.

A throw-away PostgreSQL 15 cluster and Redis broker (``services.py``), and real Airflow processes
(``tests/airflow_cluster.py``: scheduler, triggerer, on Airflow 3 also dag-processor and the execution
API server) with the CeleryExecutor and two Celery workers of 2 slots each, run ``stripe_deployment``:
50 mapped customer creates, 50 mapped charges, three sensors (new charges of customer A,
deferrable; of customer B, ``reschedule``; new refunds of charge 1, ``poke``) and two exports
(``StripeToObjectStorageOperator``, charges and customers by data interval to a ``file://`` folder),
all in the pool ``stripe_api``, against the emulator limited to 25 requests a second (Stripe's
test-mode limit: https://docs.stripe.com/rate-limits), 20 of them spent by another integration.

The DAG's one run covers the last complete year (``CronDataIntervalTimetable("@yearly")``). Stripe's
clock stands still 40 seconds before that year's end while the DAG creates its customers and
charges (and the test the sensors' batches; the sensors count from that moment), so they all fall
in the exports' window, and the exports, which list a window only once its end plus ``lookback``
has passed on Stripe's clock (its ``Date`` header), defer through the triggerer again and again
(``DateTimeTrigger``) until the test lets Stripe's clock run again.

While the run goes on, the test:

1. SIGKILLs the worker running a customer create while its POST is in flight: Stripe has created the
   customer (the emulator's ``slow_next`` holds that answer back), the answer never arrives. The
   scheduler finds the task without heartbeat, the retry sends the same idempotency key and gets
   the same customer back (https://docs.stripe.com/api/idempotent_requests);
2. SIGKILLs the worker running the ``poke`` sensor while it polls;
3. restarts the triggerer, which holds the deferrable sensor's trigger;
4. restarts the scheduler;

then creates each sensor's batch at one instant, and, once every create has succeeded, lets Stripe's
clock run (the exports' year is over); and

5. SIGKILLs the worker running the charges export once it has started writing its folder (its
   listing held back by the emulator's latency): the retry rewrites the folder.

Afterwards the run must have succeeded with exactly 50 customers and 50 charges, each once; each
sensor must have returned exactly its batch; and each export's folder must hold exactly the objects
of its window as the official ``stripe`` SDK lists them, each once, in the part files its manifest
describes (counts, bytes, sha256).
"""

from __future__ import annotations

import hashlib
import json
import math
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import stripe as stripe_sdk

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS
from tests.airflow_cluster import CORE_PROCESSES, AirflowCluster
from tests.deployment.services import PostgresServer, RedisServer, missing_binaries
from tests.deployment.stripe_side import (
    OtherTraffic,
    create_sensor_batches,
    create_sensor_targets,
    sensors_polled,
)
from tests.reliability.figures import record
from tests.transfers.conftest import read_lines
from tests.waiting import wait_for

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
#: Seconds the killed create's answer is held: under the hook's 30 s timeout (it waits, no retry),
#: and long for the test to see the create in flight and kill its worker.
HELD_ANSWER = 25.0
# By name: on Airflow 2, ``email`` is also BaseOperator's alert address, which ``partial()`` sets.
NAMES = [f"deployment buyer {n:02d}" for n in range(OBJECTS)]
ORDERS = [f"deployment order {n:02d}" for n in range(OBJECTS)]
SENSORS = ("charges_of_a", "charges_of_b", "refunds_of_1")
#: The exports: task id -> the resource exported.
EXPORTS = {"export_charges": "charges", "export_customers": "customers"}
CREATES = ("create_customer", "create_charge")
#: Stripe's clock stands this many seconds before the exports' window ends while the DAG creates:
#: each export defers for this long plus its lookback, then looks at Stripe's clock again.
STRIPE_CLOCK_BEHIND = 40
#: (method, path) of every request the DAG's tasks make; the test's own are other paths or methods.
DAG_CALLS = {
    ("POST", "/v1/customers"),
    ("POST", "/v1/charges"),
    ("GET", "/v1/charges"),
    ("GET", "/v1/refunds"),
    ("GET", "/v1/customers"),
}

DEPLOYMENT_DAG = """
from datetime import datetime, timedelta

try:
    from airflow.sdk import DAG, CronDataIntervalTimetable
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_stripe.operators.stripe import StripeCreateChargeOperator, StripeCreateCustomerOperator
from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewRefundSensor
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

# Creates retry with the same idempotency key. Sensors retry too: each worker kill can take any
# sensor running there along, and Airflow 3's "state changed externally" race (docs/deploying.md)
# can strike each reschedule or resume: on 2 busy cores the reschedule sensor needed 3 retries once.
# Stripe's clock stands in the past while they wait: they count from its time, not the run's start.
CREATING = dict(retries=3, retry_delay=timedelta(seconds=2))
SENSING = dict(
    priority_weight=100, poke_interval=1, timeout=600, retries=6, retry_delay=timedelta(seconds=1),
    start_from={start_from!r},
)
# Each resume after a deferral meets the same race as a sensor's.
EXPORTING = dict(lookback=timedelta(seconds=5), retries=4, retry_delay=timedelta(seconds=1))

# One run, over the last complete year: a data interval, as an export by window needs.
with DAG({dag_id!r}, schedule=CronDataIntervalTimetable("@yearly", timezone="UTC"),
         start_date=datetime(2020, 1, 1), catchup=False, default_args=dict(pool={pool!r})):
    StripeNewChargeSensor(task_id="charges_of_a", customer={cus_a!r}, deferrable=True, **SENSING)
    StripeNewChargeSensor(task_id="charges_of_b", customer={cus_b!r}, mode="reschedule", **SENSING)
    StripeNewRefundSensor(task_id="refunds_of_1", charge={ch_1!r}, mode="poke", **SENSING)
    StripeCreateCustomerOperator.partial(task_id="create_customer", **CREATING).expand(name={names!r})
    StripeCreateChargeOperator.partial(
        task_id="create_charge", amount=1500, currency="usd", source="tok_visa", **CREATING
    ).expand(description={orders!r})
    for resource in ("charges", "customers"):
        StripeToObjectStorageOperator(
            task_id=f"export_{{resource}}", resource=resource, path=f"{exports}/{{resource}}/", **EXPORTING
        )
"""


@dataclass
class Deployment:
    cluster: AirflowCluster
    stripe: StripeEmulator
    ids: dict[str, str]
    other_traffic: OtherTraffic
    exports: Path
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
        root = tmp_path_factory.mktemp("celery")
        exports = root / "exports"
        cluster = AirflowCluster(root / "airflow", cluster_env(stripe, postgres, redis), postgres.url)
        # The run's data interval is the year that ended on January 1st (UTC) of this year.
        year_end = datetime(datetime.now(timezone.utc).year, 1, 1, tzinfo=timezone.utc).timestamp()
        stripe_stands_at = int(year_end) - STRIPE_CLOCK_BEHIND
        dag = DEPLOYMENT_DAG.format(
            dag_id=DAG_ID,
            pool=POOL,
            names=NAMES,
            orders=ORDERS,
            exports=exports.as_uri(),
            start_from=stripe_stands_at,
            **ids,
        )
        (cluster.dags_folder / f"{DAG_ID}.py").write_text(dag)
        other_traffic = OtherTraffic(stripe, OTHER_TRAFFIC)
        try:
            cluster.migrate()
            # Until the pool exists the scheduler leaves the tasks alone.
            cluster.cli("pools", "set", POOL, str(POOL_SLOTS), "Shared Stripe rate budget")
            stripe.rate_limit(RATE_LIMIT)
            stripe.clock.freeze(at=stripe_stands_at)
            other_traffic.start()
            for name in (*CORE_PROCESSES, *WORKERS):
                cluster.start(name)
            yield Deployment(cluster, stripe, ids, other_traffic, exports)
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


def creates_succeeded(cluster: AirflowCluster) -> bool:
    states = cluster.task_states(DAG_ID)
    done = [key for key, (state, _) in states.items() if key[0] in CREATES and state == "success"]
    return len(done) == len(CREATES) * OBJECTS


def exported_ids(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The ids in an export's folder, which must hold exactly the parts its manifest describes."""
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    names = [part["name"] for part in manifest["parts"]]
    assert sorted(child.name for child in folder.iterdir()) == sorted([*names, "manifest.json"])
    for part in manifest["parts"]:
        assert hashlib.sha256((folder / part["name"]).read_bytes()).hexdigest() == part["sha256"]
    return [obj["id"] for obj in read_lines(folder)]  # read_lines checks bytes and counts


def listed_by_sdk(stripe: StripeEmulator, resource: str, window: dict[str, Any]) -> list[str]:
    """What the official SDK lists in an export's window (https://docs.stripe.com/api/charges/list,
    https://docs.stripe.com/api/customers/list: ``created[gte]`` / ``created[lt]``)."""
    client = stripe_sdk.StripeClient(stripe.api_key, base_addresses={"api": stripe.base_url})
    service = getattr(client.v1, resource)
    params = {"created": {"gte": window["created_gte"], "lt": window["created_lt"]}, "limit": 100}
    return [obj.id for obj in service.list(params=params).auto_paging_iter()]


def export_logs(cluster: AirflowCluster, task_id: str) -> list[Path]:
    return list((cluster.home / "logs").glob(f"dag_id={DAG_ID}/*/task_id={task_id}/attempt=*.log"))


def export_deferrals(cluster: AirflowCluster) -> int:
    """How often the exports deferred, waiting for Stripe's clock (their task logs say so each time)."""
    return sum(
        log.read_text(errors="replace").count("Deferring until")
        for task_id in EXPORTS
        for log in export_logs(cluster, task_id)
    )


def test_creates_sensors_and_exports_survive_killed_workers_and_restarts(deployment: Deployment) -> None:
    cluster, stripe, ids = deployment.cluster, deployment.stripe, deployment.ids

    def made(kind: str, key: str, values: list[str]) -> list[dict[str, Any]]:
        return [o for o in stripe.objects(kind) if o.get(key) in values]

    try:
        wait_for("the DAG run", lambda: cluster.run_state(DAG_ID), 180)
        wait_for("every sensor's first poll", lambda: sensors_polled(stripe, SENSORS, ids), 180)
        # 1. A worker dies while Stripe is answering one of its creates (the customer exists).
        wait_for("the first 5 customers", lambda: len(made("customer", "name", NAMES)) >= 5, 180)
        # The next create is made at once and answered only after HELD_ANSWER: its worker is killed
        # meanwhile, however slow the machine is to notice.
        stripe.slow_next(1, HELD_ANSWER, method="POST", path="/v1/customers")
        name = wait_for("a customer create in flight", lambda: customer_in_flight(stripe), 60, interval=0.05)
        killed_create = NAMES.index(name)
        kill_worker_running(deployment, "create_customer", killed_create)
        # 2. A worker dies while the poke sensor polls.
        kill_worker_running(deployment, "refunds_of_1")
        # 3. and 4. The triggerer (holding the deferrable sensor's trigger) and the scheduler restart.
        restart(deployment, "triggerer")
        restart(deployment, "scheduler")
        wait_for("the sensor retries to poll", lambda: running_pid(cluster, "refunds_of_1"), 180)
        wait_for("10 charges", lambda: len(made("charge", "description", ORDERS)) >= 10, 300)
        # The deferrable sensor's batch comes once the scheduler has read its deferral's exit: its
        # resume cannot meet Airflow 3.3's "state changed externally" race (docs/deploying.md).
        wait_for("the deferral's exit read", lambda: cluster.exits_read(DAG_ID, "charges_of_a"), 180)
        batches = create_sensor_batches(stripe, ids)  # Stripe's clock moves on by a second only
        del batches["refunds_of_2"]  # no sensor for it in this DAG
        # Every create is done (none can be replayed any more): the exports' year ends on Stripe.
        wait_for("every create to succeed", lambda: creates_succeeded(cluster), 480, interval=1)
        stripe.clock.reset()
        # 5. A worker dies while the resumed charges export lists: its window's first page (which is
        # also its clock check, so nothing follows it for these 50 charges) held in flight for 3 s.
        # A kill once the folder is begun and slices are listed is tests/transfers/test_backfill.py's.
        stripe.latency = 3.0
        try:
            kill_worker_running(deployment, "export_charges")
        finally:
            stripe.latency = 0
        wait_for("the DAG run to finish", lambda: cluster.finished(DAG_ID), 600, interval=1)
    except BaseException:
        print(cluster.diagnostics())
        raise
    finally:
        deployment.other_traffic.stop()
    stripe.rate_limit(None)  # for the test's own listing below

    states = cluster.task_states(DAG_ID)
    assert cluster.run_state(DAG_ID) == "success", {k: v for k, v in states.items() if v[0] != "success"}
    assert {state for state, _ in states.values()} == {"success"}
    assert len(states) == len(CREATES) * OBJECTS + len(SENSORS) + len(EXPORTS)

    # Exactly 50 customers and 50 charges, each once; the killed create's retry got its customer back.
    customers = made("customer", "name", NAMES)
    charges = made("charge", "description", ORDERS)
    assert sorted(c["name"] for c in customers) == sorted(NAMES)
    assert sorted(c["description"] for c in charges) == sorted(ORDERS)
    customer_posts = [r for r in stripe.requests if r.method == "POST" and r.path == "/v1/customers"]
    assert any(r.replayed and r.form.get("name") == name for r in customer_posts), "no idempotent replay"
    assert states[("create_customer", killed_create)][1] >= 2
    assert states[("export_charges", -1)][1] >= 2

    returned = cluster.xcoms(DAG_ID)
    assert {i: v["id"] for (t, i), v in returned.items() if t == "create_customer"} == {
        NAMES.index(c["name"]): c["id"] for c in customers
    }
    for sensor, expected in batches.items():
        delivered = [obj["id"] for obj in returned[(sensor, -1)]]
        assert sorted(delivered) == sorted(expected), sensor

    # Each export holds exactly its window, the run's data interval, as the official SDK lists it:
    # what was made while Stripe's clock stood in that year, each once: the DAG's 50 customers, and
    # its 50 charges with the charge sensors' batches.
    expected = {
        "charges": {c["id"] for c in charges}.union(batches["charges_of_a"], batches["charges_of_b"]),
        "customers": {c["id"] for c in customers},
    }
    ((interval_start, interval_end),) = cluster.query(
        "SELECT data_interval_start, data_interval_end FROM dag_run WHERE dag_id = ?", (DAG_ID,)
    )
    exported: dict[str, list[str]] = {}
    for task_id, resource in EXPORTS.items():
        manifest = returned[(task_id, -1)]
        window = manifest["window"]
        assert (window["created_gte"], window["created_lt"]) == (
            math.ceil(interval_start.timestamp()),
            math.ceil(interval_end.timestamp()),
        )
        exported[resource] = exported_ids(deployment.exports / resource, manifest)
        assert len(exported[resource]) == len(set(exported[resource])) == manifest["objects"], task_id
        assert sorted(exported[resource]) == sorted(listed_by_sdk(stripe, resource, window)), task_id
        assert set(exported[resource]) == expected[resource], task_id

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
    state_mismatches = cluster.scheduler_lines("reported that the task instance")
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
        "export deferrals": export_deferrals(cluster),
        "exported charges": len(exported["charges"]),
        "exported customers": len(exported["customers"]),
        "duplicates": len(customers)
        - len({c["name"] for c in customers})
        + len(charges)
        - len({c["description"] for c in charges})
        + sum(len(ids) - len(set(ids)) for ids in exported.values()),
    }
    print(json.dumps(figures, indent=2))
    record(
        f"deployment: Celery x2 workers on PostgreSQL, {deployment.kills}, triggerer + scheduler restarted",
        "50 mapped customer creates + 50 charges + 3 sensors + 2 exports, 25 rps limit",
        ", ".join(f"{name} {value}" for name, value in figures.items()),
        f"duplicates {figures['duplicates']}, sensor and export objects missed 0, repeated 0",
    )
    assert figures["duplicates"] == 0
