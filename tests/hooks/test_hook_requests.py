"""StripeHook over real HTTP against the local emulator: retries, idempotency, error mapping."""

from __future__ import annotations

import time

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_stripe.exceptions import (
    StripeAPIError,
    StripeAuthenticationError,
    StripeCardError,
    StripeConnectionError,
    StripeError,
    StripeInvalidRequestError,
    StripeNotFoundError,
    StripePermissionError,
    StripeRateLimitError,
)
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator
from tests.hooks.conftest import HookFactory


def posts(emulator: StripeEmulator, path: str) -> list[object]:
    return [r for r in emulator.requests if r.method == "POST" and r.path == path]


def test_construction_does_no_io(stripe_emulator: StripeEmulator) -> None:
    hook = StripeHook("no_such_connection_anywhere")
    assert hook.stripe_conn_id == "no_such_connection_anywhere"
    assert stripe_emulator.count() == 0


def test_create_and_retrieve_round_trip_nested_params(hook: StripeHook) -> None:
    created = hook.customers.create(
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "address": {"line1": "12 St James's Square", "city": "London", "country": "GB"},
            "metadata": {"crm_id": "42", "vip": "true"},
            "shipping": {"name": "Ada", "phone": "+44 20 7946 0000", "address": {"line1": "1 Main St"}},
        }
    ).object
    fetched = hook.customers.retrieve(created["id"])
    assert fetched["id"] == created["id"]
    assert fetched["address"]["city"] == "London"
    assert fetched["metadata"] == {"crm_id": "42", "vip": "true"}
    assert fetched["shipping"]["phone"] == "+44 20 7946 0000"
    assert fetched["livemode"] is False


def test_post_retried_after_500_reuses_its_idempotency_key(
    hook: StripeHook, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.fail_next(1, status=500)
    customer = hook.customers.create({"email": "retry@example.com"}).object
    sent = posts(stripe_emulator, "/v1/customers")
    assert [r.status for r in sent] == [500, 200]
    assert sent[0].idempotency_key
    assert sent[0].idempotency_key == sent[1].idempotency_key
    assert [c["id"] for c in stripe_emulator.objects("customer")] == [customer["id"]]


def test_response_lost_after_the_post_succeeded_creates_one_object(
    hook: StripeHook, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.fail_next(1, status="drop", after_handler=True)
    customer = hook.customers.create({"email": "lost@example.com"}).object
    sent = posts(stripe_emulator, "/v1/customers")
    assert len(sent) == 2
    assert sent[1].replayed
    assert [c["id"] for c in stripe_emulator.objects("customer")] == [customer["id"]]


def test_each_call_without_a_key_gets_a_fresh_one(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    hook.products.create({"name": "A"})
    hook.products.create({"name": "A"})
    keys = [r.idempotency_key for r in posts(stripe_emulator, "/v1/products")]
    assert len(set(keys)) == 2
    assert len(stripe_emulator.objects("product")) == 2


def test_caller_idempotency_key_replays_the_original(
    hook: StripeHook, stripe_emulator: StripeEmulator
) -> None:
    first = hook.products.create({"name": "Mug"}, idempotency_key="run-1-task-a")
    second = hook.products.create({"name": "Mug"}, idempotency_key="run-1-task-a")
    assert first.object["id"] == second.object["id"]
    # Stripe's "Idempotent requests" docs: a replay answers with the header Idempotent-Replayed: true.
    assert (first.replayed, second.replayed) == (False, True)
    assert len(stripe_emulator.objects("product")) == 1


def test_each_resource_calls_its_own_list(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    customer = hook.customers.create({"email": "ada@example.com"}).object
    assert hook.customers.retrieve(customer["id"])["email"] == "ada@example.com"
    assert [c["id"] for c in hook.customers.list({"email": "ada@example.com"})] == [customer["id"]]
    assert list(hook.products.list()) == []
    # An id is one path segment (stripe-python percent-encodes it too): no id reaches another list.
    with pytest.raises(StripeNotFoundError, match="No such customer"):
        hook.customers.retrieve(f"../products/{customer['id']}")


def test_release_one_names_still_work_and_warn(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    """Release one's create_customer/retrieve_customer/list_customers (and the same for charges,
    products, refunds) answer as they did, plain objects, with a deprecation warning naming the new call."""
    from airflow.exceptions import AirflowProviderDeprecationWarning

    with pytest.warns(AirflowProviderDeprecationWarning, match=r"use hook\.customers\.create\(\)\.object"):
        customer = hook.create_customer({"email": "old@example.com"}, idempotency_key="release-one")  # type: ignore[attr-defined]
    with pytest.warns(AirflowProviderDeprecationWarning, match=r"use hook\.customers\.retrieve\(\)"):
        assert hook.retrieve_customer(customer["id"]) == customer  # type: ignore[attr-defined]
    with pytest.warns(AirflowProviderDeprecationWarning, match=r"use hook\.customers\.list\(\)"):
        assert [c["id"] for c in hook.list_customers()] == [customer["id"]]  # type: ignore[attr-defined]
    names = {
        f"{verb}_{kind}"
        for verb in ("create", "retrieve")
        for kind in ("charge", "customer", "product", "refund")
    }
    names |= {f"list_{kinds}" for kinds in ("charges", "customers", "products", "refunds")}
    assert all(callable(getattr(hook, name)) for name in names)
    assert stripe_emulator.objects("customer")[0]["id"] == customer["id"]


def test_stripe_should_retry_false_stops_retries(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.fail_next(1, status=500, should_retry=False)
    with pytest.raises(StripeAPIError) as caught:
        hook.customers.create({"email": "x@example.com"})
    assert caught.value.should_retry is False
    assert len(posts(stripe_emulator, "/v1/customers")) == 1


def test_stripe_should_retry_true_forces_a_retry_of_a_400(
    hook: StripeHook, stripe_emulator: StripeEmulator
) -> None:
    # Stripe sends it on lock timeouts; without the header a 400 is final.
    stripe_emulator.fail_next(1, status=400, should_retry=True)
    hook.customers.create({"email": "x@example.com"})
    assert [r.status for r in posts(stripe_emulator, "/v1/customers")] == [400, 200]


def test_429_backs_off_then_succeeds(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    hook = make_hook(backoff_initial=0.1)
    stripe_emulator.fail_next(2, status=429)
    started = time.monotonic()
    balance = hook.request("GET", "/v1/balance")
    elapsed = time.monotonic() - started
    assert balance["object"] == "balance"
    assert [r.status for r in stripe_emulator.requests] == [429, 429, 200]
    assert elapsed >= 0.1 + 0.2  # exponential: 0.1 s, then 0.2 s (plus jitter)


def test_retries_stop_at_max_retries_and_leave_a_transient_error(
    make_hook: HookFactory, stripe_emulator: StripeEmulator
) -> None:
    hook = make_hook(max_retries=2)
    stripe_emulator.fail_next(5, status=503)
    with pytest.raises(StripeAPIError) as caught:
        hook.request("GET", "/v1/balance")
    assert stripe_emulator.count() == 3
    assert caught.value.http_status == 503
    assert not isinstance(caught.value, AirflowFailException)  # Airflow task retries still apply


def test_max_retries_comes_from_the_connection_extras(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    conn = json.loads(stripe_emulator.connection_json())
    conn["extra"] = {"max_retries": 1, "backoff_initial": 0.01}
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_EXTRAS", json.dumps(conn))
    stripe_emulator.fail_next(5, status=500)
    with pytest.raises(StripeAPIError):
        StripeHook("stripe_extras").request("GET", "/v1/balance")
    assert stripe_emulator.count() == 2


def test_dropped_connections_exhaust_into_a_connection_error(
    make_hook: HookFactory, stripe_emulator: StripeEmulator
) -> None:
    hook = make_hook(max_retries=1)
    stripe_emulator.fail_next(2, status="drop")
    with pytest.raises(StripeConnectionError) as caught:
        hook.request("GET", "/v1/balance")
    assert caught.value.http_status is None
    assert stripe_emulator.count() == 2


def test_timeout_is_a_connection_error(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    hook = make_hook(timeout=0.2, max_retries=0)
    stripe_emulator.latency = 1.0
    with pytest.raises(StripeConnectionError, match="GET /v1/balance"):
        hook.request("GET", "/v1/balance")


def test_401_unknown_key(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    hook = make_hook("sk_test_thiskeyisnotknowntotheemulator")
    with pytest.raises(StripeAuthenticationError) as caught:
        hook.request("GET", "/v1/balance")
    error = caught.value
    assert isinstance(error, AirflowFailException)
    assert error.http_status == 401
    assert "Invalid API Key provided" in str(error)
    assert error.request_id
    assert error.request_id.startswith("req_")
    assert stripe_emulator.count() == 1  # never retried


def test_402_card_declined_carries_stripe_fields(hook: StripeHook) -> None:
    with pytest.raises(StripeCardError) as caught:
        hook.charges.create({"amount": 2000, "currency": "usd", "source": "tok_chargeDeclined"})
    error = caught.value
    assert isinstance(error, AirflowFailException)
    assert (error.http_status, error.type, error.code) == (402, "card_error", "card_declined")
    assert error.decline_code
    assert "declined" in error.message


def test_403_restricted_key_names_the_permission(
    make_hook: HookFactory, stripe_emulator: StripeEmulator
) -> None:
    hook = make_hook(stripe_emulator.restricted_key({"rak_charge_read"}))
    assert hook.charges.list() is not None
    with pytest.raises(StripePermissionError) as caught:
        hook.charges.create({"amount": 2000, "currency": "usd", "source": "tok_visa"})
    assert caught.value.http_status == 403
    assert "rak_charge_write" in str(caught.value)
    assert isinstance(caught.value, AirflowFailException)


def test_404_missing_object(hook: StripeHook) -> None:
    with pytest.raises(StripeNotFoundError) as caught:
        hook.charges.retrieve("ch_doesnotexist")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert "No such charge" in str(caught.value)


def test_404_unknown_url_is_an_invalid_request_not_a_missing_object(hook: StripeHook) -> None:
    with pytest.raises(StripeInvalidRequestError) as caught:
        hook.request("GET", "/v1/no_such_resource")
    assert not isinstance(caught.value, StripeNotFoundError)


def test_400_names_the_param(hook: StripeHook) -> None:
    with pytest.raises(StripeInvalidRequestError) as caught:
        hook.charges.create({"amount": 10, "currency": "usd", "source": "tok_visa"})
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        400,
        "amount_too_small",
        "amount",
    )


def test_transient_and_permanent_classes() -> None:
    assert issubclass(StripeRateLimitError, StripeError)
    assert not issubclass(StripeRateLimitError, AirflowFailException)
    assert not issubclass(StripeAPIError, AirflowFailException)
    assert not issubclass(StripeConnectionError, AirflowFailException)
    for permanent in (
        StripeAuthenticationError,
        StripeCardError,
        StripePermissionError,
        StripeInvalidRequestError,
        StripeNotFoundError,
    ):
        assert issubclass(permanent, AirflowFailException)


def test_live_key_reports_live_mode(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    hook = make_hook(stripe_emulator.live_api_key)
    assert (hook.mode, hook.key_kind) == ("live", "secret")
    assert hook.products.create({"name": "Live thing"}).object["livemode"] is True


def test_stripe_account_override_is_accepted(make_hook: HookFactory) -> None:
    hook = make_hook(stripe_account="acct_1032D82eZvKYlo2C", stripe_version="2024-06-20")
    assert hook.settings.stripe_account == "acct_1032D82eZvKYlo2C"
    assert hook.settings.stripe_version == "2024-06-20"
    assert hook.request("GET", "/v1/account")["object"] == "account"


class TestConnectionButton:
    def test_working_secret_key(self, hook: StripeHook) -> None:
        ok, message = hook.test_connection()
        assert ok
        assert "test mode, secret key" in message

    def test_restricted_key_without_balance_permission_still_proves_the_key(
        self, make_hook: HookFactory, stripe_emulator: StripeEmulator
    ) -> None:
        ok, message = make_hook(stripe_emulator.restricted_key({"rak_charge_read"})).test_connection()
        assert ok
        assert "restricted key" in message
        assert "rak_balance_read" in message

    def test_invalid_key(self, make_hook: HookFactory) -> None:
        ok, message = make_hook("sk_test_thiskeyisnotknowntotheemulator").test_connection()
        assert not ok
        assert "invalid" in message

    def test_pk_key_is_refused_without_a_request(
        self, make_hook: HookFactory, stripe_emulator: StripeEmulator
    ) -> None:
        ok, message = make_hook("pk_test_TYooMQauvdEDq54NiTphI7jx").test_connection()
        assert not ok
        assert "publishable key" in message
        assert stripe_emulator.count() == 0
