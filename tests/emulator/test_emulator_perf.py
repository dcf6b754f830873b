"""A thousand objects listed 100 a page come back complete and in order (timing: benchmarks/)."""

from __future__ import annotations

import requests
import stripe

from airflow_provider_stripe.testing import StripeEmulator
from tests.emulator.conftest import sdk_client


def test_thousand_charges_list_completely_newest_first(stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.clock.freeze(1_700_000_000)
    made = []
    with requests.Session() as session:
        session.auth = (stripe_emulator.api_key, "")
        for index in range(1000):
            if index % 37 == 0:  # many objects per second, across several seconds
                stripe_emulator.clock.advance(1)
            response = session.post(
                f"{stripe_emulator.base_url}/v1/charges",
                data={"amount": 100 + index, "currency": "usd", "source": "tok_visa"},
                timeout=5,
            )
            made.append(response.json()["id"])
    client: stripe.StripeClient = sdk_client(stripe_emulator)
    stripe_emulator.clear_log()
    listed = [charge.id for charge in client.v1.charges.list(params={"limit": 100}).auto_paging_iter()]
    assert listed == made[::-1]
    assert stripe_emulator.count("GET", "/v1/charges") == 10
