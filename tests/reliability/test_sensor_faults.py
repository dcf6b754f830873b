"""The new-charge and new-refund sensors over many consecutive DAG runs, under injected faults.

Each scenario runs one sensor DAG ``RUNS`` times (``dag.test()``, Airflow's own retries in-process)
against the emulator. Before each run a seeded random plan creates new objects (sometimes a burst
larger than a page in one second, sometimes visible in lists only seconds later, inside the
lookback) and injects faults, each keyed to the sensor's requests, never to time: 429s, 500s (with
and without ``Stripe-Should-Retry``), dropped connections, a latency spike (its next list requests
answered after the hook's timeout), and a task killed between the fetch and the XCom writes (before
the cursor is stored, or after it). The ledger then checks the delivery
contract: every successful run returns exactly the oldest ``max_batch`` of the objects that were
visible and not yet delivered (while the sensor walks a backlog with ``ending_before``, of those
newer than where its cursor's walk stands), oldest first; no id comes twice; after a final drain, the ids
delivered are exactly the ids created.

``STRIPE_RELIABILITY_SEED`` picks another seed (the default one is fixed so CI is repeatable).
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import pytest

from airflow_provider_stripe.exceptions import StripeError
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import run_poll
from airflow_provider_stripe.polling.watch import Watch
from airflow_provider_stripe.sensors.stripe import CURSOR_XCOM_KEY
from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import RunResult, load_dag, run_dag, write_dag
from tests.reliability.figures import record
from tests.reliability.resources import connections_to, release_captured_log_records
from tests.waiting import wait_for

SEED = int(os.environ.get("STRIPE_RELIABILITY_SEED", "8"))
RUNS = 25
LOOKBACK = 30
HOOK_TIMEOUT = 0.3
SPIKE_LATENCY = 0.6  # each answer of a spike comes after the hook gave up on it
SPIKE_ANSWERS = 2  # a spike's late answers: the hook (3 tries) times out twice, then is answered
SENSOR_TIMEOUT = 4
FIRST_DAY = datetime(2026, 3, 1)
T = TypeVar("T")

CRASHING_SENSOR = '''
class Crashing{base}({base}):
    """Killed on its first try between the fetch and the XCom writes, when the run's conf says so."""

    resumed = 0  # how many times the trigger fired and the task resumed (dag.test runs in-process)

    def execute_complete(self, context, event):
        type(self).resumed += 1
        return super().execute_complete(context, event)

    def _deliver(self, context, result):
        crash = (context["dag_run"].conf or {{}}).get("crash")
        first_try = context["ti"].try_number == 1
        if first_try and crash == "before_cursor":
            raise RuntimeError("task killed after the fetch, before any XCom write")
        delivered = super()._deliver(context, result)
        if first_try and crash == "after_cursor":
            raise RuntimeError("task killed after the cursor XCom write, before the batch")
        return delivered
'''


def sensor_dag(dag_id: str, base: str, start: int, **options: Any) -> Any:
    arguments = ", ".join(f"{name}={value!r}" for name, value in options.items())
    crashing = CRASHING_SENSOR.format(base=base)
    path = write_dag(
        dag_id,
        f"""
from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_stripe.sensors.stripe import {base}

{crashing}

with DAG(
    {dag_id!r},
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args={{"retries": 2, "retry_delay": timedelta(0)}},
):
    Crashing{base}(task_id="new", start_from={start}, {arguments})
""",
    )
    return load_dag(path, dag_id)


@dataclass
class Chunk:
    count: int
    delay: int  # seconds before the chunk shows in lists
    then_advance: int  # seconds the clock moves after it


@dataclass
class Plan:
    tick: int
    chunks: list[Chunk]
    faults: list[tuple[int | str, int, int, bool | None]]  # status, n, after, should_retry
    spike: bool
    crash: str | None


def make_plan(rng: random.Random, *, needs_visible: bool) -> Plan:
    chunks = []
    for _ in range(rng.randint(1, 3)):
        burst = rng.random() < 0.12
        count = rng.randint(101, 160) if burst else rng.randint(0, 12)
        delay = rng.randint(1, LOOKBACK - 5) if rng.random() < 0.25 else 0
        chunks.append(Chunk(count, delay, rng.randint(0, 2)))
    if needs_visible and not any(c.count and not c.delay for c in chunks):
        chunks.append(Chunk(rng.randint(1, 5), 0, 0))
    faults: list[tuple[int | str, int, int, bool | None]] = []
    for status in (429, 500, "drop"):
        if rng.random() < 0.3:
            should_retry = None if status == "drop" else rng.choice([None, None, True, False])
            faults.append((status, rng.randint(1, 4), rng.randint(0, 2), should_retry))
    crash = rng.choice(["before_cursor", "after_cursor"]) if rng.random() < 0.4 else None
    return Plan(rng.randint(0, 8), chunks, faults, rng.random() < 0.2, crash)


@dataclass
class Ledger:
    """What was created and what the successful runs delivered, with everything tried."""

    created: list[str] = field(default_factory=list)
    rank: dict[str, tuple[int, int]] = field(default_factory=dict)  # (created, creation order)
    visible_at: dict[str, float] = field(default_factory=dict)
    delivered: list[str] = field(default_factory=list)
    tried: Counter[str] = field(default_factory=Counter)

    def add(self, obj: dict[str, Any], visible_at: float) -> None:
        self.rank[obj["id"]] = (obj["created"], len(self.created))
        self.created.append(obj["id"])
        self.visible_at[obj["id"]] = visible_at

    def expected_batch(self, now: float, max_batch: int, cursor: Cursor | None = None) -> list[str]:
        """The oldest ``max_batch`` objects visible now and not delivered yet, oldest first.

        While ``cursor`` walks a backlog, only objects newer than its position count, unless the
        walk reaches the newest object and lists the window behind it (objects there may have shown
        up late), which it does when its floor is at or below its watermark.
        """
        done = set(self.delivered)
        pending = [i for i in self.created if i not in done and self.visible_at[i] <= now]
        pending.sort(key=self.rank.__getitem__)
        if cursor is None or cursor.walk_from is None:
            return pending[:max_batch]
        ahead = [i for i in pending if self.rank[i] > self.rank[cursor.walk_from]]
        if len(ahead) >= max_batch or (ahead and cursor.floor > cursor.watermark):
            return ahead[:max_batch]
        return pending[:max_batch]


@dataclass(frozen=True)
class Scenario:
    name: str
    sensor: str
    path: str
    max_batch: int
    deferrable: bool


SCENARIOS = [
    Scenario("charges, poke mode", "StripeNewChargeSensor", "/v1/charges", 40, deferrable=False),
    Scenario("refunds, deferrable", "StripeNewRefundSensor", "/v1/refunds", 60, deferrable=True),
]


def patiently(call: Callable[[], T]) -> T:
    """``call()``, again while it fails transiently: faults a run left unused may hit the test's calls
    (a 500 with ``Stripe-Should-Retry: false`` even stops the hook's own retries)."""
    for _ in range(20):
        try:
            return call()
        except StripeError as error:
            if not error.transient:
                raise
    return call()


class Creator:
    """Creates the watched objects (each POST with its own idempotency key, so retrying is safe)."""

    def __init__(self, stripe: StripeEmulator, path: str) -> None:
        self.stripe = stripe
        self.hook = StripeHook(backoff_initial=0.001)
        self.lock = threading.Lock()
        self.params = {"amount": 500, "currency": "usd", "source": "tok_visa"}
        if path == "/v1/refunds":  # one big charge, refunded a cent at a time
            pot = self.post("/v1/charges", {**self.params, "amount": 99_999_999})
            self.params = {"charge": pot["id"], "amount": 1}
        self.path = path

    def post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        key = f"reliability-{uuid.uuid4()}"
        return patiently(lambda: self.hook.create(path, params, idempotency_key=key).object)

    def create(self, ledger: Ledger, count: int, delay: int) -> None:
        with self.lock:
            self.stripe.visibility_delay = delay
            visible_at = self.stripe.clock.time() + delay
            for _ in range(count):
                ledger.add(self.post(self.path, self.params), visible_at)
            self.stripe.visibility_delay = 0


@contextmanager
def run_faults(
    stripe: StripeEmulator, creator: Creator, ledger: Ledger, path: str, *, spike: bool, wake: bool
) -> Iterator[threading.Event]:
    """The faults of one run that are not queued before it, each keyed to the sensor's requests.

    With ``spike``, the sensor's next ``SPIKE_ANSWERS`` list requests answer after its timeout. With
    ``wake`` (a deferrable run with nothing to find, which ``dag.test()`` would wait on forever), one
    visible object is created once the sensor has listed once during the run. Yields an event set
    when that object was created (the ledger counts it).
    """
    if spike:
        stripe.slow_next(SPIKE_ANSWERS, SPIKE_LATENCY, method="GET", path=path)
    woken, finished = threading.Event(), threading.Event()
    listed_before = stripe.count("GET", path)

    def wake_after_a_poll() -> None:
        polled = wait_for(
            "the sensor's poll", lambda: finished.is_set() or stripe.count("GET", path) > listed_before
        )
        if polled and not finished.is_set():
            creator.create(ledger, 1, 0)
            woken.set()

    waker = threading.Thread(target=wake_after_a_poll, name="waker")
    if wake:
        waker.start()
    try:
        yield woken
    finally:
        finished.set()
        if wake:
            waker.join()


def batch_of(result: RunResult) -> list[dict[str, Any]] | None:
    if result.state_of("new") != "success":
        return None
    objects: list[dict[str, Any]] = result.xcom("new")
    return objects


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_sensor_runs_under_faults_lose_nothing_and_repeat_nothing(
    stripe_emulator: StripeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    no_answers: Counter[str],
    scenario: Scenario,
) -> None:
    stripe = stripe_emulator
    extras = {"max_retries": 2, "backoff_initial": 0.01, "backoff_max": 0.05, "timeout": HOOK_TIMEOUT}
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", stripe.connection_json(extra=extras))
    stripe.clock.freeze()
    rng = random.Random(f"{SEED}-{scenario.name}")
    creator = Creator(stripe, scenario.path)
    start = stripe.clock.now() + 1
    stripe.clock.advance(1)
    options: dict[str, Any] = {
        "poke_interval": 0.1,
        "timeout": SENSOR_TIMEOUT,
        "max_batch": scenario.max_batch,
        "lookback": LOOKBACK,
        "deferrable": scenario.deferrable,
    }
    if not scenario.deferrable:
        options["mode"] = "poke"
    dag_id = "reliability_" + scenario.sensor.lower()
    dag = sensor_dag(dag_id, scenario.sensor, start, **options)
    ledger = Ledger()
    outcomes: Counter[str] = Counter()
    last_cursor: list[str] = []
    day = FIRST_DAY

    def one_run(plan: Plan | None) -> None:
        nonlocal day
        day += timedelta(days=1)
        conf = {"crash": plan.crash} if plan and plan.crash else {}
        expected = ledger.expected_batch(
            stripe.clock.time(), scenario.max_batch, Cursor.from_json(last_cursor[0]) if last_cursor else None
        )
        spike, wake = bool(plan and plan.spike), scenario.deferrable and not expected
        with run_faults(stripe, creator, ledger, scenario.path, spike=spike, wake=wake) as woken:
            result = run_dag(dag, day, run_conf=conf)
        batch = batch_of(result)
        if batch is None:
            outcomes["timed out, nothing new" if not expected else "FAILED with news"] += 1
            assert not expected, f"run {result.run_id} failed with {len(expected)} objects to deliver"
            return
        ids = [obj["id"] for obj in batch]
        retried = result.tries[("new", -1)] > 1
        outcomes["succeeded after a killed try" if retried else "succeeded on the first try"] += 1
        assert len(ids) <= scenario.max_batch
        assert ids == sorted(ids, key=ledger.rank.__getitem__), "batch not oldest first"
        assert not set(ids) & set(ledger.delivered), "an object delivered twice"
        if woken.is_set():
            outcomes["woken by an object created after a poll"] += 1
        else:
            assert ids == expected, "not the oldest undelivered visible objects"
        cursor = result.xcom("new", CURSOR_XCOM_KEY)
        stored = Cursor.from_json(cursor)
        assert set(stored.delivered) >= {i for i in ids if ledger.rank[i][0] >= stored.floor}
        last_cursor[:] = [cursor]
        ledger.delivered += ids

    baseline: int | None = None
    for _ in range(RUNS):
        plan = make_plan(rng, needs_visible=scenario.deferrable)
        stripe.clock.advance(plan.tick)
        for chunk in plan.chunks:
            creator.create(ledger, chunk.count, chunk.delay)
            stripe.clock.advance(chunk.then_advance)
            if chunk.count > 100:
                ledger.tried["bursts of more than a page in one second"] += 1
            if chunk.delay and chunk.count:
                ledger.tried["late-visible objects"] += chunk.count
        for status, n, after, should_retry in plan.faults:
            stripe.fail_next(n, status=status, should_retry=should_retry, after=after)
            ledger.tried[f"injected {status}s"] += n
        ledger.tried["latency spikes"] += plan.spike
        if plan.crash:
            ledger.tried[f"kills {plan.crash.replace('_', ' ')}"] += 1
        one_run(plan)
        if baseline is None:
            release_captured_log_records()
            baseline = connections_to(stripe)

    # Drain: everything becomes visible; runs go on until nothing is left.
    stripe.clock.advance(LOOKBACK + 1)
    while ledger.expected_batch(stripe.clock.time(), scenario.max_batch):
        one_run(None)
    if not scenario.deferrable:
        one_run(None)  # idle: it times out, delivering nothing
    # Nothing piles up run after run: connections to Stripe are released. A leak of one per run
    # would leave dozens; the test's own session and the keep-alives of the few task copies that
    # dag.test() keeps referenced stay open. (Threads and file descriptors are not compared:
    # Airflow 3's in-process dag.test() keeps some of its own for each deferred task.)
    assert baseline is not None
    release_captured_log_records()
    connections = connections_to(stripe)
    assert connections <= 6, f"{connections} connections to Stripe still open after the runs"
    # The last cursor finds nothing more (a deferrable run cannot be idle under dag.test()).
    watch = Watch.checked(scenario.path, {}, scenario.max_batch, LOOKBACK)
    hook = StripeHook()
    tail = patiently(
        lambda: run_poll(
            watch.poll(Cursor.from_json(last_cursor[0])),
            partial(hook.list_page, scenario.path),
        )
    )
    assert tail.objects == []

    sensor_requests = [r for r in stripe.requests if r.method == "GET" and r.path == scenario.path]
    statuses = Counter(r.status for r in sensor_requests)
    assert len(ledger.delivered) == len(set(ledger.delivered)), "an object delivered twice"
    assert set(ledger.delivered) == set(ledger.created), "an object was never delivered"
    # The faults did reach the sensor (not only the test's own calls).
    assert statuses[429]
    assert statuses[500]
    assert statuses[0]
    assert no_answers["timed out"]
    resumed = dag.get_task("new").__class__.resumed
    assert resumed or not scenario.deferrable
    tried = ", ".join(f"{count} {what}" for what, count in sorted(ledger.tried.items()))
    record(
        f"sensor faults ({scenario.name}, seed {SEED})",
        f"{len(ledger.created)} objects; {tried}. The sensor's {len(sensor_requests)} list requests "
        f"got {statuses[429]} 429s, {statuses[500]} 500s, {statuses[0]} drops, "
        f"{no_answers['timed out']} timeouts",
        f"{sum(outcomes.values())} runs: "
        + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
        + (f"; {resumed} resumed from the trigger" if scenario.deferrable else ""),
        f"0 of {len(ledger.created)} lost, 0 delivered twice; connections to Stripe left open: "
        f"{baseline} after run 1, {connections} after the last",
    )
