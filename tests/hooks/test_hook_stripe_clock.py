"""Stripe's clock reaches the poll: the ``Date`` header of each answer (RFC 9110 section 6.6.1, which
Stripe's API sends on every answer), read by the hook, never the worker's clock."""

from __future__ import annotations

import asyncio

import pytest
import requests

from airflow_provider_stripe.api.pages import stripe_time
from airflow_provider_stripe.testing import StripeEmulator
from tests.hooks.conftest import HookFactory

FAR_FROM_NOW = 2_000_000_000  # 2033: a worker clock this far off would be noticed


def test_the_emulator_dates_its_answers_by_its_own_clock(stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.clock.freeze(FAR_FROM_NOW)
    answer = requests.get(
        f"{stripe_emulator.base_url}/v1/charges", auth=(stripe_emulator.api_key, ""), timeout=10
    )
    assert answer.headers["Date"] == "Wed, 18 May 2033 03:33:20 GMT"


def test_list_pages_carry_stripes_clock_sync_and_async(
    stripe_emulator: StripeEmulator, make_hook: HookFactory
) -> None:
    stripe_emulator.clock.freeze(FAR_FROM_NOW)
    hook = make_hook()
    page = hook.list_page("/v1/charges", {"limit": 1})
    assert (page.body["object"], page.stripe_time) == ("list", FAR_FROM_NOW)

    async def alist() -> int | None:
        try:
            stripe_emulator.clock.advance(7)
            return (await hook.alist_page("/v1/charges", {"limit": 1})).stripe_time
        finally:
            await hook.aclose()

    assert asyncio.run(alist()) == FAR_FROM_NOW + 7


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Wed, 18 May 2033 03:33:20 GMT", FAR_FROM_NOW),
        ("Wed, 18 May 2033 03:33:20 -0000", FAR_FROM_NOW),
        ("yesterday", None),
        (None, None),
    ],
)
def test_stripe_time_reads_the_date_header_or_nothing(date: str | None, expected: int | None) -> None:
    """Without a readable Date the poll falls back to the watermark (tests/polling/test_poll.py)."""
    assert stripe_time(date) == expected
