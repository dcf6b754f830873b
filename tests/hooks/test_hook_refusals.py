"""Bad connections are refused before a single byte is sent."""

from __future__ import annotations

import json

import pytest
import requests_mock
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_stripe.api.calls import build_call
from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator
from tests.hooks.conftest import HookFactory


@pytest.mark.parametrize(
    ("api_key", "complaint"),
    [
        ("pk_test_TYooMQauvdEDq54NiTphI7jx", "publishable key"),
        ("pk_live_TYooMQauvdEDq54NiTphI7jx", "publishable key"),
        ("", "no API key"),
        ("   ", "no API key"),
        ("sk_test_abc", "malformed"),  # not a bare prefix: Airflow masks a looked-up password, and a
        # masked "sk_test_" would mask only the start of every later key in the session
        ("sk_prod_4eC39HqLyjWDarjtT1zdp7dc", "malformed"),
        ("sk_test_4eC39HqL yjWDarjtT1zdp7dc", "malformed"),
        ('"sk_test_4eC39HqLyjWDarjtT1zdp7dc"', "malformed"),
        ("whsec_4eC39HqLyjWDarjtT1zdp7dc", "malformed"),
    ],
)
def test_bad_keys_are_refused_with_zero_requests(
    make_hook: HookFactory, stripe_emulator: StripeEmulator, api_key: str, complaint: str
) -> None:
    hook = make_hook(api_key)
    with pytest.raises(StripeValidationError, match=complaint) as caught:
        hook.request("GET", "/v1/balance")
    assert isinstance(caught.value, AirflowFailException)
    assert caught.value.param == "api_key"
    if len(api_key.strip()) > len("sk_test_"):
        assert api_key.strip() not in str(caught.value)
    assert stripe_emulator.count() == 0


@pytest.mark.parametrize(
    "key",
    ["sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWD", "rk_test_abcdefgh", "rk_live_abcdefgh"],
)
def test_good_key_kinds_are_accepted(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_KINDS", json.dumps({"conn_type": "stripe", "password": key}))
    hook = StripeHook("stripe_kinds")
    assert hook.mode == ("live" if "_live_" in key else "test")
    assert hook.key_kind == ("restricted" if key.startswith("rk_") else "secret")
    assert hook.settings.base_url == "https://api.stripe.com"


@pytest.mark.parametrize(
    ("host", "complaint"),
    [
        ("http://api.stripe.com", "plain HTTP"),
        ("http://10.0.0.8:12111", "plain HTTP"),
        ("http://stripe.internal.example", "plain HTTP"),
        ("ftp://127.0.0.1", "must be a URL"),
        ("api.stripe.com", "must be a URL"),
    ],
)
def test_non_https_hosts_are_refused_with_zero_requests(
    host: str, complaint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {"conn_type": "stripe", "password": "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "host": host}
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_PLAIN", json.dumps(conn))
    with requests_mock.Mocker() as network, pytest.raises(StripeValidationError, match=complaint):
        StripeHook("stripe_plain").customers.create({"email": "a@example.com"})
    assert network.call_count == 0


@pytest.mark.parametrize(
    "host", ["http://127.0.0.1:12111", "http://localhost:12111/", "http://[::1]:12111", "http://127.8.9.10"]
)
def test_plain_http_is_allowed_to_loopback(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "stripe", "password": "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "host": host}
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_LOCAL", json.dumps(conn))
    assert StripeHook("stripe_local").settings.base_url == host.rstrip("/")


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ({"max_retries": "lots"}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"max_retries": 99}, "max_retries"),
        ({"max_retries": 2.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"timeout": "NaN"}, "timeout"),
        ({"timeout": "inf"}, "timeout"),
        ({"backoff_initial": -1}, "backoff_initial"),
        ({"backoff_max": 601}, "backoff_max"),
        ({"stripe_account": 42}, "stripe_account"),
    ],
)
def test_bad_extras_are_named(extra: dict[str, object], name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "stripe", "password": "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_EXTRA", json.dumps(conn))
    with pytest.raises(StripeValidationError, match=f"Invalid {name}: ") as caught:
        _ = StripeHook("stripe_extra").settings
    assert caught.value.param == name


def test_airflow2_prefixed_extras_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {
        "conn_type": "stripe",
        "password": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "extra": {"extra__stripe__stripe_account": "acct_123", "extra__stripe__timeout": "12"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_OLD", json.dumps(conn))
    settings = StripeHook("stripe_old").settings
    assert (settings.stripe_account, settings.timeout) == ("acct_123", 12.0)


@pytest.mark.parametrize(
    "version",
    ["latest", "2024-6-20", "2024-06-20.Basil", "2024-13-01", "2024-06-20 ", "2024-06-20.basil.x", 20240620],
)
def test_malformed_stripe_version_is_refused_naming_the_extra_with_zero_requests(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, version: object
) -> None:
    """Versions look like 2024-06-20, or 2025-03-31.basil since named releases
    (https://docs.stripe.com/api/versioning); a typo must fail here, not on every production call."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_VERSION_TYPO", stripe_emulator.connection_json(extra={"stripe_version": version})
    )
    with pytest.raises(StripeValidationError, match="Stripe API version like") as caught:
        StripeHook("stripe_version_typo").request("GET", "/v1/balance")
    assert caught.value.param == "stripe_version"
    assert isinstance(caught.value, AirflowFailException)
    assert stripe_emulator.count() == 0


@pytest.mark.parametrize("version", ["2024-06-20", "2025-03-31.basil", "2026-10-28.endive"])
def test_well_formed_stripe_version_is_sent(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_VERSIONED", stripe_emulator.connection_json(extra={"stripe_version": version})
    )
    hook = StripeHook("stripe_versioned")
    assert build_call(hook.settings, "GET", "/v1/balance", None).headers["Stripe-Version"] == version
    hook.request("GET", "/v1/balance")
    assert stripe_emulator.count() == 1


def test_the_pinned_version_has_one_home() -> None:
    import stripe

    from airflow_provider_stripe.api.defaults import DEFAULT_STRIPE_VERSION
    from airflow_provider_stripe.api.settings import ClientSettings
    from airflow_provider_stripe.testing.server import DEFAULT_API_VERSION

    assert DEFAULT_API_VERSION is DEFAULT_STRIPE_VERSION
    assert ClientSettings.from_connection("sk_test_4eC39HqLyjWDarjtT1zdp7dc", None, {}).stripe_version == (
        DEFAULT_STRIPE_VERSION
    )
    assert stripe.api_version == DEFAULT_STRIPE_VERSION  # the SDK release pinned to the same version
