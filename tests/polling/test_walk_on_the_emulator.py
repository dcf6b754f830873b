"""The backlog walk against the emulator over HTTP, where Stripe's own answers steer it."""

from __future__ import annotations

from functools import partial

from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import run_poll
from airflow_provider_stripe.polling.watch import Watch
from airflow_provider_stripe.testing import StripeEmulator
from tests.hooks.conftest import hook, make_hook

__all__ = ["hook", "make_hook"]


def test_a_walk_whose_anchor_was_deleted_goes_on_from_a_listing(
    hook: StripeHook, stripe_emulator: StripeEmulator
) -> None:
    """API reference, "Pagination": ``ending_before`` takes an object ID, and a deleted object is no
    cursor (400 resource_missing on ``ending_before``; see tests/emulator/test_stripe_facts.py). A
    watch over customers that is walking a backlog when its anchor customer is deleted delivers the
    rest of the backlog, each customer once, instead of failing every poll from then on."""
    start = stripe_emulator.clock.now()
    ids = [hook.customers.create({"email": f"c{i}@example.com"}).object["id"] for i in range(250)]
    watch = Watch("/v1/customers", {}, max_batch=100, lookback_seconds=300)
    fetch = partial(hook.list_page, watch.path)

    first = run_poll(watch.poll(Cursor.starting_at(int(start))), fetch)
    assert [c["id"] for c in first.objects] == ids[:100]
    assert first.cursor.walk_from == ids[99]
    hook.request("DELETE", f"/v1/customers/{ids[99]}")

    delivered = [c["id"] for c in first.objects]
    cursor = first.cursor
    for _ in range(5):
        result = run_poll(watch.poll(cursor), fetch)
        delivered += [c["id"] for c in result.objects]
        cursor = result.cursor
    assert delivered == ids
