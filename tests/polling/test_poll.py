"""One poll: oldest first, bounded batches, same-second ties, late objects, request counts, the
backlog walk with ``ending_before`` and the floor on Stripe's clock."""

from __future__ import annotations

import pytest

from airflow_provider_stripe.api.pages import Page
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import PollResult, run_poll
from airflow_provider_stripe.polling.watch import Watch
from tests.polling.fake_list import FakeList


def poll_once(stripe: FakeList, cursor: Cursor, max_batch: int = 100, lookback: int = 300) -> PollResult:
    watch = Watch("/v1/charges", {}, max_batch, lookback)
    return run_poll(watch.poll(cursor), stripe.page)


def drain(stripe: FakeList, cursor: Cursor, max_batch: int = 100) -> tuple[list[str], Cursor, int]:
    """Poll until a poll finds nothing and is caught up; the runs that delivered, and their cost in
    ``stripe.requests`` (the idle poll at the end is not counted)."""
    delivered: list[str] = []
    runs = 0
    while True:
        before = stripe.requests
        result = poll_once(stripe, cursor, max_batch)
        delivered += [o["id"] for o in result.objects]
        cursor = result.cursor
        if not result.objects and cursor.walk_from is None:
            stripe.requests = before
            return delivered, cursor, runs
        runs += 1


def test_idle_poll_is_one_request() -> None:
    stripe = FakeList(now=1000)
    result = poll_once(stripe, Cursor.starting_at(1000))
    assert (result.objects, stripe.requests) == ([], 1)


@pytest.mark.parametrize(
    ("backlog", "requests"), [(1, 1), (99, 1), (100, 1), (101, 2), (1000, 10), (1001, 11)]
)
def test_first_poll_of_a_backlog_costs_one_request_per_hundred(backlog: int, requests: int) -> None:
    stripe = FakeList(now=2000)
    for i in range(backlog):
        stripe.add(1000 + i // 7)
    poll_once(stripe, Cursor.starting_at(1000))
    assert stripe.requests == requests


@pytest.mark.parametrize("backlog", [101, 250, 1000, 3000])
def test_a_backlog_is_walked_a_page_per_batch_then_listed_once(backlog: int) -> None:
    """Pages of 100 and ``ending_before`` (https://docs.stripe.com/api/pagination): after the first
    listing, each batch of 100 costs one request; catching up costs one listing of the window."""
    stripe = FakeList(now=1100)
    ids = [stripe.add(1000 + i // 50) for i in range(backlog)]
    delivered, _, runs = drain(stripe, Cursor.starting_at(1000))
    assert delivered == ids
    pages = -(-backlog // 100)
    walks = [q for q in stripe.queries if "ending_before" in q]
    assert runs - 1 <= len(walks) <= runs  # every run after the first listing walks
    assert all("created" not in q for q in walks)
    assert stripe.requests <= 2 * pages + runs


def test_backlog_older_than_the_lookback_needs_no_relisting() -> None:
    """Objects older than Stripe's clock minus the lookback were visible when walked: no listing
    of them again, and the idle poll right after is one request."""
    stripe = FakeList(now=5000)
    ids = [stripe.add(1000 + i // 50) for i in range(1000)]
    delivered, cursor, runs = drain(stripe, Cursor.starting_at(1000))
    assert delivered == ids
    assert stripe.requests == 10 + (runs - 1)  # the first listing, then a walk page per run
    assert cursor.floor == 5000 - 300
    stripe.requests = 0
    assert poll_once(stripe, cursor).objects == []
    assert stripe.requests == 1


def test_the_floor_follows_stripes_clock_so_idle_polls_after_a_burst_cost_one_request() -> None:
    stripe = FakeList(now=1000)
    for _ in range(1000):
        stripe.add(1000)
    _, cursor, _ = drain(stripe, Cursor.starting_at(1000), max_batch=1000)
    stripe.now = 1000 + 301  # the burst is older than the lookback by Stripe's clock
    first = poll_once(stripe, cursor)
    assert first.cursor.floor == stripe.now - 300
    stripe.requests = 0
    assert poll_once(stripe, first.cursor).objects == []
    assert stripe.requests == 1


def test_without_a_date_header_the_floor_trails_the_watermark_as_in_release_one() -> None:
    def no_date(query: dict[str, object]) -> Page:
        return Page(stripe.page(query).body, None)

    stripe = FakeList(now=9000)
    stripe.add(2000)
    result = run_poll(Watch("/v1/charges", {}, 100, 300).poll(Cursor.starting_at(1000)), no_date)
    assert result.cursor.floor == 2000 - 300


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


def test_late_object_behind_a_walk_is_delivered_by_the_listing_that_ends_it() -> None:
    stripe = FakeList(now=1010)
    early = [stripe.add(1000) for _ in range(150)]
    late = stripe.add(1000, delay=20)
    result = poll_once(stripe, Cursor.starting_at(1000))
    assert [o["id"] for o in result.objects] == early[:100]
    stripe.now = 1030
    delivered, _, _ = drain(stripe, result.cursor)
    assert sorted(delivered) == sorted([*early[100:], late])


def test_release_one_cursor_is_read_after_the_upgrade_without_repeat_or_skip() -> None:
    """The exact ``stripe_cursor`` XCom string release one left (charges a, b delivered; c new)."""
    stripe = FakeList(now=1200)
    a, b, c = stripe.add(1000), stripe.add(1100), stripe.add(1150)
    stored = f'{{"version":1,"watermark":1100,"floor":800,"delivered":{{"1000":["{a}"],"1100":["{b}"]}}}}'
    delivered, _, _ = drain(stripe, Cursor.from_json(stored))
    assert delivered == [c]


def test_filters_reach_the_query() -> None:
    seen: list[dict[str, object]] = []
    watch = Watch("/v1/charges", {"customer": "cus_1"}, 10, 60)

    def fetch(query: dict[str, object]) -> Page:
        seen.append(query)
        return Page({"data": [], "has_more": False}, 100)

    run_poll(watch.poll(Cursor.starting_at(5)), fetch)
    run_poll(watch.poll(Cursor(5, 5, {"ch_1": 5}, walk_from="ch_1")), fetch)
    assert seen[0] == {"customer": "cus_1", "created": {"gte": 5}, "limit": 100}
    assert seen[1] == {"customer": "cus_1", "ending_before": "ch_1", "limit": 100}


def test_a_walk_resumed_behind_delivered_objects_skips_them() -> None:
    """Late objects found by the listing that ends a walk, more than a batch of them: the walk goes
    on from among them and passes objects it already delivered, which the cursor still remembers
    even though Stripe's clock is now past them by more than the lookback."""
    stripe = FakeList(now=1002)
    late = [stripe.add(1000, delay=10) for _ in range(5)]
    on_time = [stripe.add(1001) for _ in range(5)]
    first = poll_once(stripe, Cursor.starting_at(1000), max_batch=2)
    assert [o["id"] for o in first.objects] == on_time[:2]
    stripe.now = 1400
    delivered, _, _ = drain(stripe, first.cursor, max_batch=2)
    assert sorted(delivered) == sorted([*on_time[2:], *late])
    assert len(delivered) == len(set(delivered))
