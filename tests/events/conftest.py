"""Clients for the change-feed tests: the official SDK (an independent client) pointed at the emulator."""

from __future__ import annotations

import pytest
import stripe

from airflow_provider_stripe.testing import StripeEmulator


@pytest.fixture
def client(stripe_emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        stripe_emulator.api_key, base_addresses={"api": stripe_emulator.base_url}, max_network_retries=0
    )


# The fault tests record figures with the reliability harness; print them here too.
from tests.reliability.conftest import pytest_terminal_summary  # noqa: E402, F401
