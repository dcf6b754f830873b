"""StripeNewEventSensor over many consecutive DAG runs, under the faults of the charge and refund sensors.

Reuses the harness of ``tests/reliability/test_sensor_faults.py``: a seeded plan per run creates
charges (each makes one ``charge.succeeded`` event, per Stripe's event types list,
https://docs.stripe.com/api/events/types), sometimes more than a page in one second, sometimes
visible late (inside the lookback), and injects 429s, 500s, dropped connections, a latency spike
past the hook's timeout, and a task killed between the fetch and the XCom writes. Every successful
run must return the oldest undelivered visible events, oldest first; after a drain every charge's
event was delivered exactly once.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.sensors.stripe import CURSOR_XCOM_KEY
from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import run_dag
from tests.reliability.figures import record
from tests.reliability.test_sensor_faults import (
    FIRST_DAY,
    HOOK_TIMEOUT,
    LOOKBACK,
    SEED,
    SENSOR_TIMEOUT,
    Creator,
    Ledger,
    batch_of,
    make_plan,
    run_faults,
    sensor_dag,
)

RUNS = 12


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_event_sensor_runs_under_faults_lose_nothing_and_repeat_nothing(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, deferrable: bool
) -> None:
    stripe = stripe_emulator
    extras = {"max_retries": 2, "backoff_initial": 0.01, "backoff_max": 0.05, "timeout": HOOK_TIMEOUT}
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", stripe.connection_json(extra=extras))
    stripe.clock.freeze()
    rng = random.Random(f"{SEED}-events-{deferrable}")
    creator = Creator(stripe, "/v1/charges")
    start = stripe.clock.now() + 1
    stripe.clock.advance(1)
    max_batch = 50
    options: dict[str, Any] = {
        "event_types": ["charge.succeeded"],
        "poke_interval": 0.1,
        "timeout": SENSOR_TIMEOUT,
        "max_batch": max_batch,
        "lookback": LOOKBACK,
        "deferrable": deferrable,
    }
    if not deferrable:
        options["mode"] = "poke"
    dag = sensor_dag(f"events_faults_{deferrable}", "StripeNewEventSensor", start, **options)
    ledger = Ledger()  # keyed by charge id: each event is its charge's charge.succeeded
    outcomes: Counter[str] = Counter()
    day = FIRST_DAY
    # The cursor the last run left, its backlog walk's position (an event id) named by its charge.
    last_cursor: list[Cursor] = []
    charge_of: dict[str, str] = {}

    def one_run(crash: str | None, with_spike: bool) -> None:
        nonlocal day
        day += timedelta(days=1)
        cursor = last_cursor[0] if last_cursor else None
        if cursor is not None and cursor.walk_from is not None:
            cursor = replace(cursor, walk_from=charge_of[cursor.walk_from])
        expected = ledger.expected_batch(stripe.clock.time(), max_batch, cursor)
        wake = deferrable and not expected
        with run_faults(stripe, creator, ledger, "/v1/events", spike=with_spike, wake=wake) as woken:
            result = run_dag(dag, day, run_conf={"crash": crash} if crash else {})
        batch = batch_of(result)
        if batch is None:
            outcomes["timed out, nothing new"] += 1
            assert not expected, f"run {result.run_id} failed with {len(expected)} events to deliver"
            return
        assert {event["type"] for event in batch} == {"charge.succeeded"}
        ids = [event["data"]["object"]["id"] for event in batch]
        outcomes["succeeded after a killed try" if result.tries[("new", -1)] > 1 else "succeeded"] += 1
        assert not set(ids) & set(ledger.delivered), "an event delivered twice"
        if not woken.is_set():
            assert ids == expected, "not the oldest undelivered visible events, oldest first"
        stored = Cursor.from_json(result.xcom("new", CURSOR_XCOM_KEY))
        assert set(stored.delivered) >= {e["id"] for e in batch if e["created"] >= stored.floor}
        charge_of.update((event["id"], event["data"]["object"]["id"]) for event in batch)
        last_cursor[:] = [stored]
        ledger.delivered += ids

    for _ in range(RUNS):
        plan = make_plan(rng, needs_visible=deferrable)
        stripe.clock.advance(plan.tick)
        for chunk in plan.chunks:
            creator.create(ledger, chunk.count, chunk.delay)
            stripe.clock.advance(chunk.then_advance)
            ledger.tried["bursts of more than a page in one second"] += chunk.count > 100
        for status, n, after, should_retry in plan.faults:
            stripe.fail_next(n, status=status, should_retry=should_retry, after=after)
            ledger.tried[f"injected {status}s"] += n
        ledger.tried[f"kills {plan.crash}"] += plan.crash is not None
        one_run(plan.crash, plan.spike)
    stripe.clock.advance(LOOKBACK + 1)
    while ledger.expected_batch(stripe.clock.time(), max_batch):
        one_run(None, with_spike=False)

    assert len(ledger.delivered) == len(set(ledger.delivered)), "an event delivered twice"
    assert set(ledger.delivered) == set(ledger.created), "an event was never delivered"
    statuses = Counter(r.status for r in stripe.requests if r.path == "/v1/events")
    assert statuses[429] or statuses[500], "no fault reached the sensor"
    tried = ", ".join(f"{count} {what}" for what, count in sorted(ledger.tried.items()) if count)
    record(
        f"event sensor faults ({'deferrable' if deferrable else 'poke'}, seed {SEED})",
        f"{len(ledger.created)} events; {tried}",
        ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())),
        f"0 of {len(ledger.created)} lost, 0 delivered twice",
    )
