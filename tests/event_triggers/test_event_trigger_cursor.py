"""The event trigger's cursor, in process: saved only once the triggerer confirms the event is stored.

These drive the trigger the way Airflow 3.3's triggerer does for an ack-mode stream (the producer
from ``create_shared_stream_producer`` feeds ``filter_shared_stream``; ``advance`` comes after the
event is stored), against the Stripe emulator and an in-memory asset state store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
from airflow import __version__ as airflow_version

from airflow_provider_stripe.exceptions import StripeError, StripeValidationError
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_3_PLUS

pytestmark = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS, reason=f"event triggers need Airflow 3.3+ ({airflow_version})"
)


class MemoryStateStore:
    """The part of Airflow's ``AssetStateStoreAccessors`` the trigger uses, in a dict."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value

    def saved_ids(self) -> set[str]:
        cursor = json.loads(self.values["stripe_cursor"])
        return {obj_id for ids in cursor["delivered"].values() for obj_id in ids}


def create_charges(emulator: StripeEmulator, count: int) -> list[str]:
    return [
        requests.post(
            f"{emulator.base_url}/v1/charges",
            data={"amount": 500, "currency": "usd", "source": "tok_visa"},
            auth=(emulator.api_key, ""),
            timeout=10,
        ).json()["id"]
        for _ in range(count)
    ]


def watcher(store: Any, start_from: float, **kwargs: Any) -> Any:
    from airflow_provider_stripe.triggers.stripe import StripeNewChargeEventTrigger

    trigger = StripeNewChargeEventTrigger(poll_interval=0.01, start_from=start_from, **kwargs)
    trigger.trigger_id = 7  # what the triggerer sets before running it
    trigger.asset_state_store = store  # what the triggerer injects for an AssetWatcher
    return trigger


def producer_of(trigger: Any) -> Any:
    """The shared-stream producer the triggerer builds for ``trigger`` from its serialized kwargs."""
    return type(trigger).create_shared_stream_producer(trigger.serialize()[1])


def charge_ids(event: Any) -> list[str]:
    return [charge["id"] for charge in event.payload["objects"]]


def turns_of(producer: Any, limit: int | None = None) -> AsyncIterator[Any]:
    """The raw items of the producer's stream, as the triggerer hands them to the filter."""

    async def turns() -> AsyncIterator[Any]:
        handed = 0
        async for raw_event, _broker_payload in producer.open_stream():
            yield raw_event
            handed += 1
            if handed == limit:
                return

    return turns()


def filtered(trigger: Any, producer: Any, limit: int | None = None) -> tuple[AsyncIterator[Any], list[Any]]:
    """The trigger's events on the producer's stream, and the turns handed to it so far (to advance)."""
    turns: list[Any] = []

    async def recorded() -> AsyncIterator[Any]:
        async for turn in turns_of(producer, limit):
            turns.append(turn)
            yield turn

    return trigger.filter_shared_stream(recorded()), turns


def outcome(*, stored: bool) -> Any:
    from airflow.triggers.shared_stream import AdvanceOutcome

    return AdvanceOutcome(acked=1, failed=0) if stored else AdvanceOutcome(acked=0, failed=1)


def test_cursor_is_saved_when_the_event_is_stored_not_when_it_is_yielded(
    stripe_emulator: StripeEmulator, stripe_connection: str
) -> None:
    from airflow.triggers.shared_stream import AdvanceItem

    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    batch = create_charges(stripe_emulator, 3)
    store = MemoryStateStore()
    trigger = watcher(store, start)
    producer = producer_of(trigger)

    async def scenario() -> None:
        events, turns = filtered(trigger, producer)
        event = await anext(events)
        assert charge_ids(event) == batch
        assert store.saved_ids() == set()  # yielded, not stored yet: nothing saved

        # The event could not be stored (ack timeout): the cursor stays, the stream ends.
        with pytest.raises(StripeError, match="not confirmed stored"):
            await producer.advance([AdvanceItem(turns[0], outcome(stored=False))])
        assert store.saved_ids() == set()

        # Airflow advances a turn once the filter has moved past it: the triggerer asks for the next
        # event only after queuing this one to be stored.
        next_event = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.05)
        await producer.advance([AdvanceItem(turns[0], outcome(stored=True))])
        assert store.saved_ids() == set(batch)
        next_event.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await next_event

    asyncio.run(scenario())


def test_cursor_is_not_saved_when_the_trigger_is_cancelled_at_its_event(
    stripe_emulator: StripeEmulator, stripe_connection: str
) -> None:
    # Airflow 3.3's shared_stream.py: a subscriber that unsubscribes while sitting on a raw event
    # resolves it as acked, and the group's stop still advances it; the triggerer's run_trigger
    # only binds an event to its raw event after logging it, so a cancellation at the yield
    # (a triggerer stopping) leaves a clean advance for an event that was never stored.
    from airflow.triggers.shared_stream import AdvanceItem

    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    batch = create_charges(stripe_emulator, 2)
    store = MemoryStateStore()
    trigger = watcher(store, start)
    producer = producer_of(trigger)

    async def scenario() -> None:
        events, turns = filtered(trigger, producer)
        event = await anext(events)
        assert charge_ids(event) == batch
        await events.aclose()  # cancelled before the triggerer took the event
        await producer.advance([AdvanceItem(turns[0], outcome(stored=True))])
        assert store.saved_ids() == set()

    asyncio.run(scenario())


def test_a_new_instance_resumes_from_the_saved_cursor(
    stripe_emulator: StripeEmulator, stripe_connection: str
) -> None:
    from airflow.triggers.shared_stream import AdvanceItem

    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    first = create_charges(stripe_emulator, 2)
    store = MemoryStateStore()

    async def deliver(limit: int) -> list[list[str]]:
        """A fresh trigger instance that polls ``limit`` times; each stored event is confirmed."""
        trigger = watcher(store, start)
        producer = producer_of(trigger)
        events, turns = filtered(trigger, producer, limit)
        batches = [charge_ids(event) async for event in events]
        # Airflow advances each turn, in order, once the filter has moved past it.
        await producer.advance([AdvanceItem(turn, outcome(stored=True)) for turn in turns])
        return batches

    assert asyncio.run(deliver(2)) == [first]
    second = create_charges(stripe_emulator, 1)
    assert asyncio.run(deliver(2)) == [second]  # not `first` again, and `second` not skipped
    assert asyncio.run(deliver(2)) == []


def test_a_backlog_comes_a_batch_at_a_time_without_waiting(
    stripe_emulator: StripeEmulator, stripe_connection: str
) -> None:
    from airflow.triggers.shared_stream import AdvanceItem

    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    backlog = create_charges(stripe_emulator, 5)
    trigger = watcher(MemoryStateStore(), start, max_batch=2)
    trigger.poll_interval = 3600.0  # only turns that found nothing wait
    producer = producer_of(trigger)

    async def three_events() -> list[list[str]]:
        events, turns = filtered(trigger, producer)
        batches = []
        for _ in range(3):
            event = await asyncio.wait_for(anext(events), timeout=10)
            batches.append(charge_ids(event))
            await producer.advance([AdvanceItem(turns[-1], outcome(stored=True))])
        await events.aclose()
        return batches

    assert asyncio.run(three_events()) == [backlog[:2], backlog[2:4], backlog[4:]]


def test_a_refused_poll_is_logged_and_polled_again(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A watcher that raises is restarted by the triggerer within a second or two, whatever its
    # poll interval; so a bad key is logged on each poll instead, at the poll interval.
    bad_key = stripe_emulator.connection_json(api_key="sk_test_revoked0000000000")
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", bad_key)
    trigger = watcher(MemoryStateStore(), stripe_emulator.clock.now())
    producer = producer_of(trigger)

    async def three_polls() -> list[Any]:
        return [event async for event in trigger.filter_shared_stream(turns_of(producer, 3))]

    assert asyncio.run(three_polls()) == []
    assert [request.status for request in stripe_emulator.requests] == [401, 401, 401]


def test_run_saves_the_cursor_when_the_next_event_is_asked_for(
    stripe_emulator: StripeEmulator, stripe_connection: str
) -> None:
    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    batch = create_charges(stripe_emulator, 2)
    store = MemoryStateStore()
    trigger = watcher(store, start)

    async def scenario() -> None:
        events = trigger.run()
        event = await anext(events)
        assert charge_ids(event) == batch
        assert store.saved_ids() == set()
        next_event = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.1)
        assert store.saved_ids() == set(batch)
        next_event.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await next_event

    asyncio.run(scenario())


def test_outside_an_asset_watcher_it_says_what_it_needs() -> None:
    from airflow_provider_stripe.triggers.stripe import StripeNewRefundEventTrigger

    trigger = StripeNewRefundEventTrigger(poll_interval=0.01)  # no asset_state_store injected

    async def first_event() -> Any:
        return await anext(trigger.run())

    with pytest.raises(StripeValidationError, match="only runs inside an AssetWatcher"):
        asyncio.run(first_event())


def test_one_trigger_for_two_assets_is_refused_clearly(stripe_connection: str) -> None:
    # Two AssetWatchers with equal trigger arguments share one trigger row, whose state store then
    # spans both assets; the cursor belongs to one.
    from airflow.sdk import Asset
    from airflow.sdk.execution_time.context import AssetStateStoreAccessors

    store = AssetStateStoreAccessors(inlets=[Asset("charges_a"), Asset("charges_b")])
    trigger = watcher(store, 0)

    async def first_event() -> Any:
        return await anext(trigger.run())

    with pytest.raises(StripeValidationError, match="watches two or more assets"):
        asyncio.run(first_event())
