"""The change-feed triggers, in process against the emulator.

``StripeChangeFeedEventTrigger`` is driven the way Airflow 3.3's triggerer drives an AssetWatcher's
ack-mode stream (harness of ``tests/event_triggers``): its cursor is saved in the asset state store
only once the event is stored. Stripe behaviour: "List all events" (https://docs.stripe.com/api/events/list)
and the ``Stripe-Account`` header for connected accounts (https://docs.stripe.com/connect/authentication).
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
import stripe
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.triggers.stripe import StripeChangeFeedEventTrigger, StripeNewEventsTrigger

AIRFLOW_3_3 = Version(airflow_version).release >= (3, 3)


def rebuilt(trigger: Any) -> Any:
    """The trigger as the triggerer rebuilds it from its serialized classpath and kwargs."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


@pytest.mark.usefixtures("stripe_connection")
def test_the_sensors_trigger_fires_once_with_the_refetched_events_of_a_connected_account(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    theirs = client.v1.customers.create(options={"stripe_account": "acct_1Them"})
    client.v1.customers.update(theirs.id, params={"name": "now"}, options={"stripe_account": "acct_1Them"})
    client.v1.customers.create()
    trigger = rebuilt(
        StripeNewEventsTrigger(
            cursor=Cursor.starting_at(start).to_json(),
            event_types=["customer.created"],
            refetch=True,
            stripe_account="acct_1Them",
            poll_interval=0.01,
        )
    )

    async def first_event() -> Any:
        events = trigger.run()
        event = await asyncio.wait_for(anext(events), timeout=10)
        await events.aclose()
        return event

    payload = asyncio.run(first_event()).payload
    assert payload["status"] == "success"
    (event,) = payload["objects"]
    assert event["account"] == "acct_1Them"
    assert event["data"]["object"]["name"] == "now"  # refetched: the current customer
    assert Cursor.from_json(payload["cursor"]).delivered == {event["id"]: event["created"]}


@pytest.mark.skipif(not AIRFLOW_3_3, reason=f"event triggers need Airflow 3.3+ ({airflow_version})")
@pytest.mark.usefixtures("stripe_connection")
def test_the_asset_watcher_trigger_delivers_each_event_once_and_saves_its_cursor_when_stored(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    from airflow.triggers.shared_stream import AdvanceItem

    from tests.event_triggers.test_event_trigger_cursor import MemoryStateStore, filtered, outcome

    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    store = MemoryStateStore()
    charge = client.v1.charges.create(params={"amount": 900, "currency": "usd", "source": "tok_visa"})
    client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
    client.v1.customers.create()

    async def deliver(limit: int) -> list[list[str]]:
        trigger = rebuilt(
            StripeChangeFeedEventTrigger(event_types="charge.*", poll_interval=0.01, start_from=start)
        )
        trigger.trigger_id = 7
        trigger.asset_state_store = store
        producer = type(trigger).create_shared_stream_producer(trigger.serialize()[1])
        events, turns = filtered(trigger, producer, limit)
        batches = [[e["type"] for e in event.payload["objects"]] async for event in events]
        # Airflow advances each turn, in order, once the filter has moved past it.
        await producer.advance([AdvanceItem(turn, outcome(stored=True)) for turn in turns])
        return batches

    assert asyncio.run(deliver(2)) == [["charge.succeeded", "charge.refunded"]]
    client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
    assert asyncio.run(deliver(2)) == [["charge.refunded"]]  # a new instance resumes from the cursor
    assert asyncio.run(deliver(2)) == []


@pytest.mark.skipif(AIRFLOW_3_3, reason=f"Airflow {airflow_version} has the asset state store")
def test_the_asset_watcher_trigger_refuses_to_build_before_airflow_3_3() -> None:
    from airflow.exceptions import AirflowOptionalProviderFeatureException

    with pytest.raises(AirflowOptionalProviderFeatureException, match=r"needs Airflow 3\.3 or newer"):
        StripeChangeFeedEventTrigger(event_types=["charge.refunded"])


@pytest.mark.skipif(not AIRFLOW_3_3, reason=f"event triggers need Airflow 3.3+ ({airflow_version})")
def test_the_asset_watcher_trigger_checks_event_types_like_the_sensor() -> None:
    from airflow_provider_stripe.exceptions import StripeValidationError

    with pytest.raises(StripeValidationError, match="at most 20") as raised:
        StripeChangeFeedEventTrigger(event_types=[f"charge.t{i}" for i in range(21)])
    assert raised.value.param == "event_types"
