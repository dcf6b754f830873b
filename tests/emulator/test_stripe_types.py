"""Every object the emulator serves has stripe-python 16.1.0's fields, with values of their types.

Generated from the SDK: :mod:`tests.emulator.sdk_types` walks each JSON object (as the emulator
sends it, over HTTP) against the SDK class for its ``object`` type, nested hashes and expanded
objects included, and lists what is missing (a field Stripe's own fixture in
``data/stripe_objects.json`` has, or one the SDK does not type ``Optional``), what is extra and what
has the wrong type. 0 of each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_stripe.testing import StripeEmulator
from tests.emulator.sdk_types import differences, sdk_class

FIXTURES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "stripe_objects.json").read_text(encoding="utf-8")
)["resources"]
"""Stripe's own objects (its OpenAPI fixtures, as the project's shared copy): what Stripe sends."""


def _served(emulator: StripeEmulator, http: requests.Session) -> Iterator[dict[str, Any]]:
    """One object of every shape the emulator answers with: each resource, expanded and nested."""
    url = emulator.base_url

    def post(path: str, **form: Any) -> dict[str, Any]:
        response = http.post(url + path, data=form, timeout=10)
        assert response.status_code in (200, 402), response.text
        body: dict[str, Any] = response.json()
        return body

    def get(path: str, **query: Any) -> dict[str, Any]:
        response = http.get(url + path, params=query, timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    address = {"line1": "1 Main St", "city": "London", "country": "GB"}
    shipping = {f"shipping[address][{key}]": value for key, value in address.items()}
    shipping["shipping[name]"] = "Ada"
    customer = post(
        "/v1/customers",
        source="tok_visa",
        email="ada@example.com",
        **{f"address[{key}]": value for key, value in address.items()},
        **shipping,
        **{"metadata[order]": "42"},
    )
    paid = post("/v1/charges", amount=2000, currency="usd", customer=customer["id"])
    uncaptured = post("/v1/charges", amount=2000, currency="eur", source="tok_mastercard", capture="false")
    declined = post("/v1/charges", amount=2000, currency="usd", source="tok_chargeDeclined")["error"]
    yield customer
    yield paid
    yield uncaptured
    yield get(f"/v1/charges/{declined['charge']}")
    yield post("/v1/charges", amount=2000, currency="usd", source="pm_card_visa", **shipping)
    yield post("/v1/refunds", charge=paid["id"], amount=500)
    yield post("/v1/refunds", charge=uncaptured["id"])
    yield post("/v1/products", name="Mug", type="good", **{"marketing_features[0][name]": "Dishwasher safe"})
    yield get("/v1/balance")
    yield get("/v1/account")
    expanded = get(
        f"/v1/charges/{paid['id']}",
        **{"expand[]": ["balance_transaction", "refunds", "customer.default_source"]},
    )
    yield expanded
    yield get(
        f"/v1/customers/{customer['id']}",
        **{"expand[]": ["sources", "subscriptions", "tax_ids", "tax", "cash_balance"]},
    )
    gone = post("/v1/customers")
    deleted = http.delete(f"{url}/v1/customers/{gone['id']}", timeout=10).json()
    yield deleted
    for path in ("/v1/charges", "/v1/customers", "/v1/refunds", "/v1/products", "/v1/events"):
        yield get(path, limit=1)  # the list object; its items are the objects above
    for event in get("/v1/events", limit=100)["data"]:
        yield event
        yield event["data"]["object"]


@pytest.fixture
def served(stripe_emulator: StripeEmulator, http: requests.Session) -> list[dict[str, Any]]:
    return list(_served(stripe_emulator, http))


def test_every_object_has_the_sdks_fields_and_types(served: list[dict[str, Any]]) -> None:
    """stripe-python 16.1.0's resource types (generated from Stripe's OpenAPI spec for the pinned
    API version) and Stripe's object fixtures: missing 0, extra 0, wrong type 0."""
    found = []
    for obj in served:
        kind = obj["object"]
        fixture = FIXTURES.get("deleted_customer" if obj.get("deleted") else kind)
        found += list(
            differences(obj, sdk_class(kind), f"{kind} {obj['id']}" if "id" in obj else kind, fixture)
        )
    assert found == []


def test_every_object_type_the_emulator_serves_is_checked(served: list[dict[str, Any]]) -> None:
    """The kinds above are all the emulator answers with (nested: card, balance_transaction, list)."""
    kinds = {obj["object"] for obj in served}
    assert kinds == {"account", "balance", "charge", "customer", "event", "list", "product", "refund"}


def test_the_check_finds_missing_extra_and_wrongly_typed_fields(served: list[dict[str, Any]]) -> None:
    """The comparison itself: a charge with a field removed, one added and one of the wrong type."""
    paid = next(obj for obj in served if obj["object"] == "charge")
    broken = {**paid, "wallet": None, "amount": "2000", "outcome": {**paid["outcome"], "risk_score": "20"}}
    del broken["calculated_statement_descriptor"]
    found = list(differences(broken, sdk_class("charge"), "charge", FIXTURES["charge"]))
    assert found == [
        "wrong type charge.amount: str",
        "missing charge.calculated_statement_descriptor",
        "wrong type charge.outcome.risk_score: str",
        "extra charge.wallet",
    ]
