"""Clients for the emulator contract tests: the official SDK (the oracle) and plain ``requests``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from airflow_provider_stripe.testing import StripeEmulator


def sdk_client(emulator: StripeEmulator, api_key: str | None = None, retries: int = 0) -> stripe.StripeClient:
    """stripe-python pointed at the emulator; retries off unless a test is about them."""
    return stripe.StripeClient(
        api_key or emulator.api_key,
        base_addresses={"api": emulator.base_url},
        max_network_retries=retries,
    )


def charge(client: stripe.StripeClient, **params: Any) -> stripe.Charge:
    """A 10.00 USD charge on tok_visa, unless ``params`` say otherwise."""
    return client.v1.charges.create(
        params={"amount": 1000, "currency": "usd", "source": "tok_visa", **params}
    )


def error_body(exc: stripe.StripeError) -> dict[str, Any]:
    """The ``error`` object of Stripe's answer."""
    assert exc.json_body is not None
    body: dict[str, Any] = exc.json_body["error"]
    return body


@pytest.fixture
def client(stripe_emulator: StripeEmulator) -> stripe.StripeClient:
    return sdk_client(stripe_emulator)


@pytest.fixture
def http(stripe_emulator: StripeEmulator) -> Iterator[requests.Session]:
    """A keep-alive session using HTTP Basic auth (key as user name, empty password), as Stripe documents."""
    with requests.Session() as session:
        session.auth = (stripe_emulator.api_key, "")
        yield session
