"""The API key never shows: not in logs, exception text or repr(), and the masker knows it."""

from __future__ import annotations

import logging

import pytest
from airflow.providers.common.compat.sdk import redact

from airflow_provider_stripe.exceptions import StripeError
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator
from tests.hooks.conftest import HookFactory


def run_failing_calls(hook: StripeHook, stripe_emulator: StripeEmulator) -> list[str]:
    """Provoke every kind of failure and return the text of each error."""
    texts: list[str] = []
    attempts = [
        lambda: hook.charges.create({"amount": 2000, "currency": "usd", "source": "tok_chargeDeclined"}),
        lambda: hook.charges.create({"amount": 1, "currency": "usd", "source": "tok_visa"}),
        lambda: hook.customers.retrieve("cus_missing"),
    ]
    for attempt in attempts:
        with pytest.raises(StripeError) as caught:
            attempt()
        texts += [str(caught.value), repr(caught.value), caught.value.message]
    stripe_emulator.fail_next(10, status=500)
    with pytest.raises(StripeError) as caught:
        hook.request("GET", "/v1/balance")
    texts.append(str(caught.value))
    stripe_emulator.fail_next(10, status="drop")
    with pytest.raises(StripeError) as caught:
        hook.request("GET", "/v1/balance")
    texts.append(str(caught.value))
    return texts


def test_key_is_absent_from_logs_errors_and_repr(
    hook: StripeHook,
    stripe_emulator: StripeEmulator,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    key = stripe_emulator.api_key
    caplog.set_level(logging.DEBUG)  # urllib3's debug lines too
    hook.customers.create({"email": "a@example.com"})
    texts = run_failing_calls(hook, stripe_emulator)
    texts += [repr(hook), repr(hook.settings), repr(hook.settings.api_key), str(hook.settings)]
    # Airflow 3 sends hook logs through structlog to the console, Airflow 2 through logging.
    output = caplog.text + "".join(capfd.readouterr())
    assert "Stripe POST /v1/customers -> 200" in output
    assert f"{key[:8]}...{key[-4:]}" in output  # the harmless hint is what gets logged
    assert key not in output
    for text in texts:
        assert key not in text


def test_each_request_logs_one_line(
    hook: StripeHook, stripe_emulator: StripeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    hook.products.create({"name": "Mug"})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="airflow_provider_stripe"):
        hook.products.create({"name": "Cup"})
    lines = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_stripe"]
    assert len(lines) == 1
    request_id = stripe_emulator.requests[-1].request_id
    assert lines[0].startswith("Stripe POST /v1/products -> 200")
    assert f"request_id={request_id}" in lines[0]
    assert "ms (test mode, secret key)" in lines[0]


def test_key_is_registered_with_the_secrets_masker(
    make_hook: HookFactory, stripe_emulator: StripeEmulator
) -> None:
    key = stripe_emulator.restricted_key({"rak_balance_read"})
    assert key in redact(f"key={key}")  # not known to the masker yet
    make_hook(key).request("GET", "/v1/balance")
    redacted = redact(f"key={key}")
    assert key not in redacted
    assert "***" in redacted


def test_live_key_is_masked_too(make_hook: HookFactory, stripe_emulator: StripeEmulator) -> None:
    make_hook(stripe_emulator.live_api_key).request("GET", "/v1/balance")
    assert stripe_emulator.live_api_key not in redact({"password": "x", "note": stripe_emulator.live_api_key})
