"""The change feeds' table, checked against stripe-python 16.1.0 and the emulator's events; bad input.

Sources: Stripe's "Types of events" (https://docs.stripe.com/api/events/types: which object each
event's ``data.object`` is), stripe-python 16.1.0's ``Event.type`` literal (every event type of the
pinned API), "List all events" (``types``: up to 20), "Update a refund" (``metadata`` only),
"Refund a charge" / ``charge.refunded`` ("Occurs whenever a charge is refunded, including partial
refunds. Listen to refund.created for information about the refund.").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import stripe

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.polling.events import MAX_EVENT_TYPES
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.change_feeds import CHANGE_FEEDS
from airflow_provider_stripe.transfers.resources import EXPORTABLE_RESOURCES
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.emulator.conftest import sdk_client
from tests.test_resources import _sdk_class

GOOD: dict[str, Any] = {"task_id": "export", "resource": "customers", "path": "file:///data/{{ ds }}/"}
#: The lists the emulator serves that an export can select, by the kind the emulator stores.
EMULATED = {"charge": "charges", "customer": "customers", "product": "products", "refund": "refunds"}


def _stripe_event_types() -> set[str]:
    source = (Path(stripe.__file__).parent / "_event.py").read_text()
    block = source[source.index("type: Literal[") :]
    return set(re.findall(r'"([a-z_.]+)"', block[: block.index("]")]))


@pytest.mark.parametrize("resource", sorted(CHANGE_FEEDS))
def test_each_feed_is_a_list_and_event_types_stripe_python_knows(resource: str) -> None:
    feed = CHANGE_FEEDS[resource]
    assert resource in EXPORTABLE_RESOURCES
    assert feed.resource.path == f"/v1/{resource}"
    assert feed.resource.object_type == _sdk_class(feed.resource.object_type).OBJECT_NAME
    assert set(feed.event_types) <= _stripe_event_types()
    assert len(set(feed.event_types)) == len(feed.event_types) <= MAX_EVENT_TYPES


def test_no_event_type_reports_two_lists() -> None:
    types = [event_type for feed in CHANGE_FEEDS.values() for event_type in feed.event_types]
    assert len(types) == len(set(types))


def test_the_emulator_publishes_every_change_of_each_exportable_list(stripe_emulator: StripeEmulator) -> None:
    """Create, update, refund, decline and delete: each event is in its list's feed, and each
    changed object of an emulated list has an event of its feed for every change."""
    client = sdk_client(stripe_emulator)
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    client.v1.customers.update(customer.id, params={"name": "Ada"})
    product = client.v1.products.create(params={"name": "Plan"})
    client.v1.products.update(product.id, params={"active": False})
    client.v1.products.delete(product.id)
    charge = client.v1.charges.create(params={"amount": 1000, "currency": "usd", "source": "tok_visa"})
    client.v1.charges.update(charge.id, params={"metadata": {"order": "1"}})
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 400})
    client.v1.refunds.update(refund.id, params={"metadata": {"reason": "late"}})
    with pytest.raises(stripe.CardError):
        client.v1.charges.create(params={"amount": 1000, "currency": "usd", "source": "tok_chargeDeclined"})
    client.v1.customers.delete(customer.id)

    by_object: dict[str, list[str]] = {}
    for event in client.v1.events.list(params={"limit": 100}).auto_paging_iter():
        obj = event.data.object
        feed = CHANGE_FEEDS[EMULATED[obj["object"]]]
        assert event.type in feed.event_types, (event.type, obj["object"])
        by_object.setdefault(obj["id"], []).insert(0, event.type)
    declined = next(c for c in stripe_emulator.objects("charge") if c["status"] == "failed")
    assert by_object == {
        customer.id: ["customer.created", "customer.updated", "customer.deleted"],
        product.id: ["product.created", "product.updated", "product.deleted"],
        charge.id: ["charge.succeeded", "charge.updated", "charge.refunded"],
        refund.id: ["refund.created", "refund.updated"],
        declined["id"]: ["charge.failed"],
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capture": "updates"}, "capture"),
        ({"capture": "changes", "window": "all"}, "capture"),
        ({"capture": "changes", "resource": "balance_transactions"}, "resource"),  # no events at all
        ({"capture": "changes", "resource": "payment_intents"}, "resource"),  # no event on a metadata update
        ({"capture": "changes", "resource": "events"}, "resource"),
        ({"capture": "changes", "list_params": {"email": "a@example.com"}}, "list_params.email"),
        ({"resource": "tax_codes"}, "resource"),  # a list without `created`: only a snapshot
        ({"resource": "tax_codez", "window": "all"}, "resource"),
    ],
)
def test_bad_input_fails_at_parse_naming_the_field_with_zero_requests(
    stripe_emulator: StripeEmulator, stripe_connection: str, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(StripeValidationError) as error:
        StripeToObjectStorageOperator(**{**GOOD, **changes})
    assert error.value.param == field
    assert field.split(".")[0] in str(error.value)
    assert stripe_emulator.requests == []


def test_the_messages_say_what_to_do_instead() -> None:
    with pytest.raises(StripeValidationError, match=r"snapshot with window='all'.*window='data_interval'"):
        StripeToObjectStorageOperator(**GOOD, capture="changes", window="all")
    with pytest.raises(StripeValidationError, match=r"'payment_intents' is not one.*window='all' snapshots"):
        StripeToObjectStorageOperator(**{**GOOD, "resource": "payment_intents"}, capture="changes")
    with pytest.raises(StripeValidationError, match="only a snapshot can export it: set window='all'"):
        StripeToObjectStorageOperator(**{**GOOD, "resource": "tax_codes"})


def test_good_input_is_accepted() -> None:
    StripeToObjectStorageOperator(**{**GOOD, "resource": "tax_codes"}, window="all")
    StripeToObjectStorageOperator(**GOOD, capture="changes", window="incremental")
    StripeToObjectStorageOperator(**GOOD, capture="changes", list_params={"expand": ["default_source"]})
    # Templated list parameters are checked once rendered.
    StripeToObjectStorageOperator(**GOOD, capture="changes", list_params="{{ params.list_params }}")
