"""Stripe Connect tests: the emulator as ``stripe_default`` (frozen clock, quick retries), and the
official SDK as the independent client that creates and lists objects in connected accounts."""

from __future__ import annotations

import pytest
import stripe

from airflow_provider_stripe.testing import StripeEmulator
from tests.sensors.conftest import stripe_env  # noqa: F401  (a fixture, used by name)

#: Two connected accounts of the platform; the emulator keeps each one's objects apart, as Stripe does
#: for ``Stripe-Account`` (https://docs.stripe.com/connect/authentication).
ACCOUNT_A = "acct_1ConnectA"
ACCOUNT_B = "acct_1ConnectB"


@pytest.fixture
def client(stripe_emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        stripe_emulator.api_key, base_addresses={"api": stripe_emulator.base_url}, max_network_retries=0
    )
