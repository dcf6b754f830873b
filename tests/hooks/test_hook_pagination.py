"""StripeHook.paginate: every object exactly once, in both directions, one page held at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.testing import StripeEmulator


@pytest.fixture
def customers(hook: StripeHook, stripe_emulator: StripeEmulator) -> list[str]:
    """250 customers, most of them sharing one `created` second, oldest first."""
    stripe_emulator.clock.freeze()
    ids = [hook.customers.create({"email": f"c{i}@example.com"}).object["id"] for i in range(250)]
    stripe_emulator.clock.advance(1)
    ids += [hook.customers.create({"email": f"late{i}@example.com"}).object["id"] for i in range(3)]
    stripe_emulator.clear_log()
    return ids


def test_newest_first_yields_each_object_once(hook: StripeHook, customers: list[str]) -> None:
    seen = [c["id"] for c in hook.customers.list()]
    assert seen == list(reversed(customers))
    assert len(set(seen)) == len(customers)


def test_oldest_first_with_ending_before(hook: StripeHook, customers: list[str]) -> None:
    seen = [c["id"] for c in hook.customers.list({"ending_before": customers[0]})]
    assert seen == customers[1:]


def test_starting_after_walks_older(hook: StripeHook, customers: list[str]) -> None:
    seen = [c["id"] for c in hook.customers.list({"starting_after": customers[100]})]
    assert seen == list(reversed(customers[:100]))


def test_filters_are_kept_on_every_page(hook: StripeHook, customers: list[str]) -> None:
    first = hook.customers.retrieve(customers[0])
    newer = [c["id"] for c in hook.customers.list({"created": {"gt": first["created"]}})]
    assert newer == list(reversed(customers[-3:]))


def test_one_page_is_fetched_at_a_time(
    hook: StripeHook, customers: list[str], stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages_held: list[int] = []
    original = hook.request

    def spy(method: str, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        page = original(method, path, params, **kwargs)
        pages_held.append(len(page["data"]))
        return page

    monkeypatch.setattr(hook, "request", spy)
    walk = hook.customers.list()
    assert stripe_emulator.count() == 0  # lazy: nothing until the first object is asked for
    for _ in range(100):
        next(walk)
    assert stripe_emulator.count() == 1
    next(walk)
    assert stripe_emulator.count() == 2
    remaining = sum(1 for _ in walk)
    assert remaining == len(customers) - 101
    assert pages_held == [100, 100, 53]
    assert all(r.query.get("limit") == "100" for r in stripe_emulator.requests)


def test_empty_list(hook: StripeHook, stripe_emulator: StripeEmulator) -> None:
    assert list(hook.refunds.list()) == []
    assert stripe_emulator.count() == 1
