from __future__ import annotations

import pytest

from airflow_provider_stripe.testing import StripeEmulator


@pytest.fixture
def stripe_env(stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> StripeEmulator:
    """The emulator as `stripe_default`, with a frozen clock at the real time and quick retries.

    The clock is frozen so that many objects can share one `created` second; it starts at the real
    time because a sensor's default start ("now") is the DAG run's start.
    """
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT",
        stripe_emulator.connection_json(extra={"backoff_initial": 0.01, "max_retries": 3}),
    )
    stripe_emulator.clock.freeze()
    return stripe_emulator
