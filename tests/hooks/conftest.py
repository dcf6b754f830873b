from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator

HookFactory = Callable[..., StripeHook]


@pytest.fixture
def make_hook(stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> HookFactory:
    """Build hooks on a connection to the emulator; retries wait milliseconds, not seconds."""

    def make(
        api_key: str | None = None, *, conn_id: str = "stripe_test", **hook_kwargs: object
    ) -> StripeHook:
        conn = json.loads(stripe_emulator.connection_json())
        if api_key is not None:
            conn["password"] = api_key
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        hook_kwargs.setdefault("backoff_initial", 0.01)
        return StripeHook(conn_id, **hook_kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def hook(make_hook: HookFactory) -> StripeHook:
    return make_hook()
