"""The emulator's ``/v1/events``, checked through stripe-python 16.1.0.

Sources: Stripe API reference, "The Event object", "List all events", "Retrieve an event"
(https://docs.stripe.com/api/events) and the event types list (https://docs.stripe.com/api/events/types);
"Update a customer" / "Update a product" / "Update a charge", "Delete a customer" / "Delete a product".
"""

from __future__ import annotations

import pytest
import stripe

from airflow_provider_stripe.testing import StripeEmulator

DAY = 24 * 3600


def _types(events: list[stripe.Event]) -> list[str]:
    return [event.type for event in events]


def test_each_change_is_one_event_with_stripes_shape(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    """Create, update and delete of customers, products, charges and refunds each emit their events."""
    customer = client.v1.customers.create(params={"email": "a@example.com", "metadata": {"tier": "gold"}})
    client.v1.customers.update(customer.id, params={"name": "Ada", "metadata": {"tier": "", "new": "1"}})
    product = client.v1.products.create(params={"name": "Plan"})
    client.v1.products.update(product.id, params={"active": False})
    client.v1.products.delete(product.id)
    charge = client.v1.charges.create(params={"amount": 1000, "currency": "usd", "source": "tok_visa"})
    client.v1.charges.update(charge.id, params={"description": "first"})
    refund = client.v1.refunds.create(
        params={"charge": charge.id, "amount": 400}, options={"idempotency_key": "rf-1"}
    )
    client.v1.customers.delete(customer.id)

    events = list(client.v1.events.list(params={"limit": 100}).auto_paging_iter())[::-1]
    assert _types(events) == [
        "customer.created",
        "customer.updated",
        "product.created",
        "product.updated",
        "product.deleted",
        "charge.succeeded",
        "charge.updated",
        "charge.refunded",
        "refund.created",
        "customer.deleted",
    ]
    created, updated = events[0], events[1]
    assert created.object == "event"
    assert created.id.startswith("evt_")
    assert created.data.object["id"] == customer.id
    assert "previous_attributes" not in created.data.to_dict()
    assert (created.livemode, created.pending_webhooks, created.api_version) == (False, 0, "2025-03-31.basil")
    assert set(created.request.to_dict()) == {"id", "idempotency_key"}
    assert created.request.id.startswith("req_")
    # Stripe merges metadata; previous_attributes holds the old value of each changed key.
    assert updated.data.previous_attributes.to_dict() == {
        "name": None,
        "metadata": {"new": None, "tier": "gold"},
    }
    assert updated.data.object["metadata"].to_dict() == {"new": "1"}
    # An event is a snapshot: the customer.created payload keeps the email and metadata it had then.
    assert created.data.object["metadata"].to_dict() == {"tier": "gold"}
    refunded = events[7]
    assert refunded.data.object["amount_refunded"] == 400
    assert refunded.data.previous_attributes.to_dict() == {"amount_refunded": 0}
    assert events[8].data.object["id"] == refund.id
    assert events[8].request.idempotency_key == "rf-1"
    # customer.deleted carries the customer as it was, not the tombstone.
    assert events[9].data.object["email"] == "a@example.com"
    assert client.v1.events.retrieve(events[3].id).to_dict() == events[3].to_dict()


def test_type_wildcard_types_and_created_filters(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    start = stripe_emulator.clock.now()
    client.v1.customers.create()
    charge = client.v1.charges.create(params={"amount": 1000, "currency": "usd", "source": "tok_visa"})
    client.v1.refunds.create(params={"charge": charge.id})
    assert _types(client.v1.events.list(params={"type": "charge.*"}).data) == [
        "charge.refunded",
        "charge.succeeded",
    ]
    assert _types(client.v1.events.list(params={"type": "refund.created"}).data) == ["refund.created"]
    listed = client.v1.events.list(params={"types": ["customer.created", "refund.created"]}).data
    assert _types(listed) == ["refund.created", "customer.created"]
    assert client.v1.events.list(params={"created": {"lt": start}}).data == []


def test_type_and_types_are_exclusive_and_types_holds_twenty(client: stripe.StripeClient) -> None:
    for params, message in (
        ({"type": "charge.*", "types": ["charge.succeeded"]}, "type, types"),
        ({"types": [f"charge.t{i}" for i in range(21)]}, "up to 20"),
    ):
        with pytest.raises(stripe.InvalidRequestError, match=message) as raised:
            client.v1.events.list(params=params)  # type: ignore[arg-type]
        assert raised.value.param == "types"


def test_events_older_than_30_days_are_gone(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    """ "List all events": events going back up to 30 days; retrieve answers 404 after that."""
    stripe_emulator.clock.freeze()
    old = client.v1.customers.create()
    stripe_emulator.clock.advance(29 * DAY)
    client.v1.customers.create()
    old_event = client.v1.events.list(params={"limit": 2}).data[-1]
    assert old_event.data.object["id"] == old.id
    stripe_emulator.clock.advance(DAY + 1)
    assert len(client.v1.events.list().data) == 1
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.events.retrieve(old_event.id)
    assert raised.value.http_status == 404


def test_connected_accounts_have_their_own_objects_and_events(client: stripe.StripeClient) -> None:
    """Stripe-Account: a platform acting for a connected account sees only that account's data."""
    mine = client.v1.customers.create()
    theirs = client.v1.customers.create(options={"stripe_account": "acct_1Connected"})
    assert [c.id for c in client.v1.customers.list().data] == [mine.id]
    listed = client.v1.events.list(options={"stripe_account": "acct_1Connected"}).data
    assert [e.data.object["id"] for e in listed] == [theirs.id]
    assert listed[0].account == "acct_1Connected"
    assert [e.data.object["id"] for e in client.v1.events.list().data] == [mine.id]


def test_updates_take_only_stripes_parameters_and_a_deleted_product_is_gone(
    client: stripe.StripeClient,
) -> None:
    product = client.v1.products.create(params={"name": "Plan"})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.products.update(product.id, params={"type": "good"})  # type: ignore[typeddict-unknown-key]
    assert refused.value.param == "type"
    unchanged = client.v1.products.update(product.id, params={"name": "Plan"})
    assert unchanged.name == "Plan"
    assert _types(client.v1.events.list().data) == ["product.created"]  # no change, no event
    assert client.v1.products.delete(product.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.retrieve(product.id)
    assert missing.value.http_status == 404
