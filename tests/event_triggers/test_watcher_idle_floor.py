"""An AssetWatcher's trigger saves how far it looked without delivering (issue 21): after a settled
burst, a restarted trigger does not list the burst again, and a quiet change feed never trips
Stripe's 30-day retention check. Saves are throttled: one when the ids the cursor keeps change, else
one an hour of Stripe's clock, never one a poll.

Driven as Airflow 3.3's triggerer drives an ack-mode stream (see test_event_trigger_cursor.py),
against the emulator over HTTP and an in-memory asset state store; Stripe keeps events 30 days
("List all events", https://docs.stripe.com/api/events/list).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from airflow_provider_stripe.polling.cursor import SAVE_FLOOR_EVERY_SECONDS, Cursor
from airflow_provider_stripe.testing import StripeEmulator
from tests.event_triggers.test_event_trigger_cursor import (
    MemoryStateStore,
    charge_ids,
    create_charges,
    filtered,
    outcome,
    producer_of,
    pytestmark,  # noqa: F401 (Airflow 3.3+)
    watcher,
)

DAY = 24 * 3600
LOOKBACK = 300


class CountingStore(MemoryStateStore):
    """The in-memory state store, counting writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    async def aset(self, key: str, value: Any) -> None:
        self.writes += 1
        await super().aset(key, value)

    def cursor(self) -> Cursor:
        return Cursor.from_json(json.loads(json.dumps(self.values["stripe_cursor"])))


def turns(trigger: Any, count: int) -> list[Any]:
    """One instance of ``trigger`` (a triggerer start) for ``count`` poll turns, each advanced as
    the triggerer does once the filter moved past it (its event, if any, stored)."""
    from airflow.triggers.shared_stream import AdvanceItem

    async def run() -> list[Any]:
        producer = producer_of(trigger)
        events, handed = filtered(trigger, producer, count)
        found = [event async for event in events]
        await producer.advance([AdvanceItem(turn, outcome(stored=True)) for turn in handed])
        return found

    return asyncio.run(run())


def charge_list_requests(stripe: StripeEmulator) -> int:
    return stripe.count("GET", "/v1/charges")


def test_a_restarted_watcher_does_not_list_a_settled_burst_again(
    stripe_emulator: StripeEmulator, stripe_connection: str
) -> None:
    stripe_emulator.rate_limit(None)
    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    stripe_emulator.clock.advance(1)
    burst = create_charges(stripe_emulator, 1000)
    store = CountingStore()

    def instance() -> Any:
        return watcher(store, start, max_batch=1000, lookback_seconds=LOOKBACK)

    (event,) = turns(instance(), 1)
    assert charge_ids(event) == burst
    stripe_emulator.clock.advance(LOOKBACK + 1)  # the burst is settled

    store.writes = 0
    stripe_emulator.clear_log()
    assert turns(instance(), 3) == []
    # The first idle poll lists the burst once (10 pages) and saves the floor past it; the next two
    # are a request each, and write nothing (only the floor moved, by less than an hour).
    assert charge_list_requests(stripe_emulator) == 10 + 2
    assert store.writes == 1
    assert store.cursor().delivered == {}

    stripe_emulator.clear_log()
    assert turns(instance(), 2) == []  # a triggerer restart
    assert charge_list_requests(stripe_emulator) == 2

    stripe_emulator.clock.advance(SAVE_FLOOR_EVERY_SECONDS)
    store.writes = 0
    assert turns(instance(), 2) == []
    assert store.writes == 1  # the floor is an hour on: saved once

    stripe_emulator.clock.advance(1)
    new = create_charges(stripe_emulator, 2)
    (event,) = turns(instance(), 1)
    assert charge_ids(event) == new


def test_a_quiet_change_feed_for_31_days_does_not_trip_the_retention_check(
    stripe_emulator: StripeEmulator, stripe_connection: str
) -> None:
    import requests

    from airflow_provider_stripe.triggers.stripe import StripeChangeFeedEventTrigger

    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    store = CountingStore()

    def instance() -> Any:
        trigger = StripeChangeFeedEventTrigger(
            event_types="customer.created", poll_interval=0.01, start_from=start, lookback_seconds=LOOKBACK
        )
        trigger.trigger_id = 7
        trigger.asset_state_store = store
        return trigger

    def create_customer() -> str:
        answer = requests.post(
            f"{stripe_emulator.base_url}/v1/customers", auth=(stripe_emulator.api_key, ""), timeout=10
        )
        return str(answer.json()["id"])

    def customers(events: list[Any]) -> list[str]:
        return [e["data"]["object"]["id"] for event in events for e in event.payload["objects"]]

    first = create_customer()
    assert customers(turns(instance(), 1)) == [first]
    # Nothing happens for 31 days on Stripe's clock; the triggerer restarts every ten days.
    for day in (10, 20, 31):
        stripe_emulator.clock.set(start + day * DAY)
        assert turns(instance(), 2) == []
        # The poll passed the retention check (a failed poll saves nothing) and saved its floor.
        assert store.cursor().floor == stripe_emulator.clock.now() - LOOKBACK
    later = create_customer()
    assert customers(turns(instance(), 1)) == [later]

    # No triggerer for 31 days is a real gap: the poll fails (logged) and saves nothing.
    saved = store.cursor()
    stripe_emulator.clock.advance(31 * DAY)
    store.writes = 0
    assert turns(instance(), 1) == []
    assert (store.writes, store.cursor()) == (0, saved)
