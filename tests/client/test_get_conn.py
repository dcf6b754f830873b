"""``StripeHook.get_conn()`` is an authenticated ``requests.Session`` a user can call Stripe with."""

from __future__ import annotations

import json

import pytest

from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator
from tests.client.conftest import ConnectionTo
from tests.client.servers import recording_server


def test_a_get_through_get_conn_is_authenticated(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", stripe_emulator.connection_json())
    hook = StripeHook()
    created = hook.customers.create({"email": "jenny@example.com"}).object

    answer = hook.get_conn().get(f"{hook.base_url}/v1/customers/{created['id']}", timeout=10)

    assert answer.status_code == 200, answer.text
    assert answer.json()["email"] == "jenny@example.com"
    assert stripe_emulator.count("GET", f"/v1/customers/{created['id']}") == 1


def test_get_conn_carries_the_pinned_version_account_and_identity(connection_to: ConnectionTo) -> None:
    with recording_server() as server:
        hook = connection_to(server.url, stripe_version="2024-06-20", stripe_account="acct_1Connected")
        hook.get_conn().get(f"{hook.base_url}/v1/balance", timeout=10)
        hook.request("GET", "/v1/balance")
    by_user, by_hook = (seen.headers for seen in server.requests)
    assert by_user["Stripe-Version"] == "2024-06-20"
    assert by_user["Stripe-Account"] == "acct_1Connected"
    assert by_user["Authorization"].startswith("Basic ")
    for name in ("Authorization", "User-Agent", "X-Stripe-Client-User-Agent"):
        assert by_user[name] == by_hook[name], name
    assert json.loads(by_user["X-Stripe-Client-User-Agent"])["httplib"] == "requests"
