"""pytest plugin (registered as a ``pytest11`` entry point): a local Stripe for every test that asks.

Fixtures:

- ``stripe_emulator``: a fresh, started :class:`~airflow_provider_stripe.testing.StripeEmulator`,
  stopped after the test. It limits requests as a Stripe sandbox does (25 a second, 429 above), so a
  test sees what production sees; a test about something else can lift it with
  ``stripe_emulator.rate_limit(None)`` (or a conftest fixture of the same name that does).
- ``stripe_connection``: sets ``AIRFLOW_CONN_STRIPE_DEFAULT`` to that emulator and yields the conn id
  ``"stripe_default"``.

pytest loads this module in every run of every project that has the provider installed, so it imports
nothing heavy at module level: the emulator and aiohttp load inside the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_stripe.testing.emulator import StripeEmulator


@pytest.fixture
def stripe_emulator() -> Iterator[StripeEmulator]:
    """A running local Stripe API with empty state, for one test."""
    from airflow_provider_stripe.testing.emulator import StripeEmulator

    with StripeEmulator() as emulator:
        yield emulator


@pytest.fixture
def stripe_connection(stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """The conn id ``stripe_default``, set to ``stripe_emulator`` via ``AIRFLOW_CONN_STRIPE_DEFAULT``."""
    for name, value in stripe_emulator.env("stripe_default").items():
        monkeypatch.setenv(name, value)
    return "stripe_default"
