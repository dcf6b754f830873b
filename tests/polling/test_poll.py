"""One poll: oldest first, bounded batches, same-second ties, late objects, request counts."""

from __future__ import annotations

import pytest

from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import PollResult, run_poll
from airflow_provider_stripe.polling.watch import Watch
from tests.polling.fake_list import FakeList


def poll_once(stripe: FakeList, cursor: Cursor, max_batch: int = 100, lookback: int = 300) -> PollResult:
    watch = Watch("/v1/charges", {}, max_batch, lookback)
    return run_poll(watch.poll(cursor), stripe.page)


def test_idle_poll_is_one_request() -> None:
    stripe = FakeList(now=1000)
    result = poll_once(stripe, Cursor.starting_at(1000))
    assert (result.objects, stripe.requests) == ([], 1)


@pytest.mark.parametrize(
    ("backlog", "requests"), [(1, 1), (99, 1), (100, 1), (101, 2), (1000, 10), (1001, 11)]
)
def test_backlog_costs_one_request_per_hundred(backlog: int, requests: int) -> None:
    stripe = FakeList(now=2000)
    for i in range(backlog):
        stripe.add(1000 + i // 7)
    poll_once(stripe, Cursor.starting_at(1000))
    assert stripe.requests == requests


def test_same_second_ties_delivered_oldest_first_across_batches() -> None:
    stripe = FakeList(now=1001)
    ids = [stripe.add(1000) for _ in range(250)]
    cursor = Cursor.starting_at(1000)
    delivered: list[str] = []
    for expected in (100, 100, 50, 0):
        result = poll_once(stripe, cursor)
        assert len(result.objects) == expected
        delivered += [o["id"] for o in result.objects]
        cursor = result.cursor
    assert delivered == ids


def test_late_visible_object_inside_lookback_is_delivered_once() -> None:
    stripe = FakeList(now=1000)
    first = stripe.add(1000)
    late = stripe.add(1000, delay=20)
    result = poll_once(stripe, Cursor.starting_at(990))
    assert [o["id"] for o in result.objects] == [first]
    stripe.now = 1030
    result = poll_once(stripe, result.cursor)
    assert [o["id"] for o in result.objects] == [late]
    result = poll_once(stripe, result.cursor)
    assert result.objects == []


def test_filters_reach_the_query() -> None:
    seen: list[dict[str, object]] = []
    watch = Watch("/v1/charges", {"customer": "cus_1"}, 10, 60)

    def fetch(query: dict[str, object]) -> dict[str, object]:
        seen.append(query)
        return {"data": [], "has_more": False}

    run_poll(watch.poll(Cursor.starting_at(5)), fetch)
    assert seen == [{"customer": "cus_1", "created": {"gte": 5}, "limit": 100}]
