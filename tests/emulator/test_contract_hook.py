"""The key emulator scenarios again, through the provider's own ``StripeHook`` (Basic auth, its retries).

The SDK contract (test_contract_sdk.py) shows the emulator behaves like Stripe; this module shows the
hook and the emulator agree on that behaviour end to end, over the connection a user would configure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_stripe.exceptions import (
    StripeAPIError,
    StripeAuthenticationError,
    StripeCardError,
    StripeConnectionError,
    StripeIdempotencyError,
    StripeInvalidRequestError,
    StripeNotFoundError,
    StripePermissionError,
    StripeRateLimitError,
)
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator

HookFactory = Callable[..., StripeHook]


@pytest.fixture
def make_hook(stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> HookFactory:
    """A hook on a fresh ``AIRFLOW_CONN_*`` connection to the emulator (no backoff waits)."""
    count = 0

    def make(api_key: str | None = None, **extra: Any) -> StripeHook:
        nonlocal count
        count += 1
        conn_id = f"stripe_contract_{count}"
        extras = {"max_retries": 0, "backoff_initial": 0, **extra}
        for name, value in stripe_emulator.env(conn_id, api_key, extra=extras).items():
            monkeypatch.setenv(name, value)
        return StripeHook(stripe_conn_id=conn_id)

    return make


@pytest.fixture
def hook(make_hook: HookFactory) -> StripeHook:
    return make_hook()


def charge(hook: StripeHook, **params: Any) -> dict[str, Any]:
    return hook.request(
        "POST", "/v1/charges", {"amount": 1000, "currency": "usd", "source": "tok_visa", **params}
    )


def test_create_retrieve_list_every_resource(hook: StripeHook) -> None:
    customer = hook.request(
        "POST",
        "/v1/customers",
        {
            "email": "jenny@example.com",
            "source": "tok_visa",
            "shipping": {"name": "J", "address": {"line1": "1"}},
        },
    )
    paid = charge(hook, customer=customer["id"], source=None, metadata={"order": "1"})
    refund = hook.request("POST", "/v1/refunds", {"charge": paid["id"], "amount": 400})
    product = hook.request("POST", "/v1/products", {"name": "T", "images": ["a", "b"], "shippable": True})
    assert hook.request("GET", f"/v1/customers/{customer['id']}")["email"] == "jenny@example.com"
    assert hook.request("GET", f"/v1/charges/{paid['id']}")["amount_refunded"] == 400
    assert hook.request("GET", f"/v1/refunds/{refund['id']}")["charge"] == paid["id"]
    assert hook.request("GET", f"/v1/products/{product['id']}")["images"] == ["a", "b"]
    assert [c["id"] for c in hook.paginate("/v1/charges", {"customer": customer["id"]})] == [paid["id"]]
    assert [c["id"] for c in hook.paginate("/v1/customers", {"email": "jenny@example.com"})] == [
        customer["id"]
    ]
    assert [r["id"] for r in hook.paginate("/v1/refunds", {"charge": paid["id"]})] == [refund["id"]]
    assert hook.request("GET", "/v1/balance")["object"] == "balance"


def test_paginate_both_ways_every_object_once(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    made = []
    for index in range(230):
        if index % 40 == 0:
            stripe_emulator.clock.advance(1)
        made.append(hook.request("POST", "/v1/products", {"name": f"P{index}"})["id"])
    stripe_emulator.clear_log()
    assert [p["id"] for p in hook.paginate("/v1/products")] == made[::-1]
    assert stripe_emulator.count("GET") == 3  # 100 per page
    assert [p["id"] for p in hook.paginate("/v1/products", {"ending_before": made[0]})] == made[1:]


def test_created_filter_and_visibility_delay(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    old = charge(hook)
    stripe_emulator.clock.advance(100)
    stripe_emulator.visibility_delay = 5
    new = charge(hook)
    assert [c["id"] for c in hook.paginate("/v1/charges", {"created": {"gte": 1_700_000_050}})] == []
    assert hook.request("GET", f"/v1/charges/{new['id']}")["id"] == new["id"]
    stripe_emulator.clock.advance(5)
    assert [c["id"] for c in hook.paginate("/v1/charges", {"created": {"gte": 1_700_000_050}})] == [new["id"]]
    assert [c["id"] for c in hook.paginate("/v1/charges", {"created": {"lt": 1_700_000_050}})] == [old["id"]]


@pytest.mark.parametrize(
    ("call", "error_class", "code"),
    [
        (lambda hook: charge(hook, source="tok_chargeDeclined"), StripeCardError, "card_declined"),
        (lambda hook: charge(hook, amount=10), StripeInvalidRequestError, "amount_too_small"),
        (lambda hook: hook.request("GET", "/v1/charges/ch_nope"), StripeNotFoundError, "resource_missing"),
        (lambda hook: hook.request("GET", "/v1/charges", {"limit": 101}), StripeInvalidRequestError, None),
        (lambda hook: charge(hook, shipping={"name": "J"}), StripeInvalidRequestError, "parameter_missing"),
    ],
)
def test_stripe_errors_map_to_provider_errors(
    hook: StripeHook, call: Callable[[StripeHook], Any], error_class: type[Exception], code: str | None
) -> None:
    with pytest.raises(error_class) as caught:
        call(hook)
    assert getattr(caught.value, "code", None) == code
    assert str(getattr(caught.value, "request_id", "")).startswith("req_")


def test_decline_carries_decline_code(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    with pytest.raises(StripeCardError) as caught:
        charge(hook, source="tok_chargeDeclinedInsufficientFunds")
    assert (caught.value.http_status, caught.value.decline_code) == (402, "insufficient_funds")
    assert stripe_emulator.objects("charge")[0]["status"] == "failed"


def test_unknown_key_and_restricted_key(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    with pytest.raises(StripeAuthenticationError):
        make_hook("sk_test_" + "z" * 30).request("GET", "/v1/charges")
    reader = make_hook(stripe_emulator.restricted_key({"rak_charge_read"}))
    assert list(reader.paginate("/v1/charges")) == []
    with pytest.raises(StripePermissionError, match="rak_charge_write"):
        charge(reader)
    ok, message = reader.test_connection()
    assert ok
    assert "rak_balance_read" in message


def test_live_key_mode(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    live = make_hook(stripe_emulator.live_api_key)
    assert live.mode == "live"
    assert live.request("POST", "/v1/customers")["livemode"] is True


def test_idempotency_key_replays_and_conflicts(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    first = hook.request("POST", "/v1/customers", {"email": "a@example.com"}, idempotency_key="run-1")
    again = hook.request("POST", "/v1/customers", {"email": "a@example.com"}, idempotency_key="run-1")
    assert again["id"] == first["id"]
    assert len(stripe_emulator.objects("customer")) == 1
    assert stripe_emulator.requests[-1].replayed is True
    with pytest.raises(StripeIdempotencyError):
        hook.request("POST", "/v1/customers", {"email": "b@example.com"}, idempotency_key="run-1")


def test_deleted_customer(hook: StripeHook) -> None:
    customer = hook.request("POST", "/v1/customers", {"email": "gone@example.com"})
    hook.request("DELETE", f"/v1/customers/{customer['id']}")
    assert hook.request("GET", f"/v1/customers/{customer['id']}") == {
        "id": customer["id"],
        "object": "customer",
        "deleted": True,
    }
    assert list(hook.paginate("/v1/customers", {"email": "gone@example.com"})) == []


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(500, StripeAPIError), (429, StripeRateLimitError), ("drop", StripeConnectionError)],
)
def test_faults_without_retries(
    hook: StripeHook, stripe_emulator: StripeEmulator, status: Any, error_class: type
) -> None:
    stripe_emulator.fail_next(1, status=status)
    with pytest.raises(error_class):
        hook.request("GET", "/v1/balance")
    assert hook.request("GET", "/v1/balance")["object"] == "balance"


@pytest.mark.parametrize("status", [500, 429, "drop"])
def test_hook_retries_transient_faults(
    make_hook: HookFactory, stripe_emulator: StripeEmulator, status: Any
) -> None:
    hook = make_hook(max_retries=3)
    stripe_emulator.fail_next(2, status=status)
    assert hook.request("POST", "/v1/customers", {"email": "a@example.com"})["object"] == "customer"
    assert stripe_emulator.count("POST") == 3
    assert len(stripe_emulator.objects("customer")) == 1


@pytest.mark.parametrize("status", [500, "drop"])
def test_lost_response_is_replayed_not_duplicated(
    make_hook: HookFactory, stripe_emulator: StripeEmulator, status: Any
) -> None:
    hook = make_hook(max_retries=2)
    stripe_emulator.fail_next(1, status=status, after_handler=True)
    paid = charge(hook)
    assert [c["id"] for c in stripe_emulator.objects("charge")] == [paid["id"]]
    assert [r.replayed for r in stripe_emulator.requests] == [False, True]


def test_should_retry_false_is_obeyed(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    hook = make_hook(max_retries=3)
    stripe_emulator.fail_next(1, status=500, should_retry=False)
    with pytest.raises(StripeAPIError):
        hook.request("GET", "/v1/balance")
    assert stripe_emulator.count() == 1
