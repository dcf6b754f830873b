"""The cursor arithmetic against a model of Stripe's list, where tests/polling stops.

``tests/polling/test_poll_model.py`` checks that small interleavings of creations, late
visibility and polls deliver each object once. These properties add what it does not reach:

- a different ``max_batch`` on every poll, from 1 to 1000, and each batch checked against the
  model: exactly the oldest ``max_batch`` of the objects visible and not yet delivered (while a
  backlog is walked with ``ending_before``: of those newer than the walk's position), oldest first,
  in as many requests as the walked pages and the listed window need (one when it is idle);
- the cost of a backlog: delivering N objects takes at most 2 x ceil(N/100) + (number of runs)
  requests, and once Stripe's clock (the answers' ``Date``) is past the newest object by more than
  the lookback, an idle poll is one request;
- bursts larger than a page (more than 100 objects in one second), which the walk must page through;
- visibility delays of up to the whole lookback, interleaved with the polls;
- the cursor stored and read back as JSON between polls, as the sensor does through XCom;
- the size bound: the cursor remembers at most ``MAX_REMEMBERED_IDS`` ids (beyond the watermark's
  own second), narrowing the lookback for a burst bigger than that, and still delivers every
  object that was on time exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_stripe.api.pages import Page
from airflow_provider_stripe.polling import cursor as cursor_module
from airflow_provider_stripe.polling.cursor import MAX_REMEMBERED_IDS, Cursor
from airflow_provider_stripe.polling.poll import PollResult, run_poll
from airflow_provider_stripe.polling.watch import Watch
from tests.reliability.figures import record

LOOKBACK = 30
PAGE = 100


@dataclass
class StripeList:
    """One Stripe list: newest first, a later object first within a second, late visibility.

    The clock only moves forward, so creation order is ``created`` order and the list is the
    creations reversed. Each answer carries the clock, as Stripe's ``Date`` header does;
    ``ending_before`` returns the ``limit`` objects just newer than the given one
    (https://docs.stripe.com/api/pagination).
    """

    now: int = 1_000_000
    objects: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    visible_at: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    queries: list[Mapping[str, Any]] = field(default_factory=list)

    def create(self, count: int, delay: int) -> None:
        for _ in range(count):
            obj_id = f"ch_{len(self.objects):024d}"
            self.objects.append({"id": obj_id, "object": "charge", "created": self.now})
            self.visible_at[obj_id] = self.now + delay

    def listed(self, floor: int) -> list[dict[str, Any]]:
        return [
            obj
            for obj in reversed(self.objects)
            if obj["created"] >= floor and self.visible_at[obj["id"]] <= self.now
        ]

    def page(self, query: Mapping[str, Any]) -> Page:
        self.requests += 1
        self.queries.append(query)
        assert set(query) in (
            {"created", "limit"},
            {"created", "limit", "starting_after"},
            {"ending_before", "limit"},
        ), query
        limit = int(query["limit"])
        if "ending_before" in query:
            listed = self.listed(-1)
            newer = listed[: [obj["id"] for obj in listed].index(query["ending_before"])]
            return Page({"object": "list", "data": newer[-limit:], "has_more": len(newer) > limit}, self.now)
        listed = self.listed(query["created"]["gte"])
        if "starting_after" in query:
            ids = [obj["id"] for obj in listed]
            listed = listed[ids.index(query["starting_after"]) + 1 :]
        return Page({"object": "list", "data": listed[:limit], "has_more": len(listed) > limit}, self.now)

    def position(self, obj_id: str) -> int:
        return int(obj_id.removeprefix("ch_"))


@dataclass
class Run:
    """Polls a :class:`StripeList` like consecutive sensor runs, checking each against the model."""

    stripe: StripeList
    cursor: Cursor
    exact: bool = True  # whether each batch must be exactly the model's oldest pending objects
    lookback: int = LOOKBACK
    delivered: list[str] = field(default_factory=list)
    polls: int = 0
    narrowed: int = 0  # polls after which the budget raised the floor above watermark - lookback
    largest_cursor: int = 0

    def poll(self, max_batch: int) -> PollResult:
        stripe = self.stripe
        window = len(stripe.listed(self.cursor.floor))
        walk_from = self.cursor.walk_from
        ahead = [
            o
            for o in stripe.listed(-1)
            if walk_from and stripe.position(o["id"]) > stripe.position(walk_from)
        ]
        requests, queries = stripe.requests, len(stripe.queries)
        result = run_poll(Watch("/v1/charges", {}, max_batch, self.lookback).poll(self.cursor), stripe.page)
        ids = [obj["id"] for obj in result.objects]
        self.polls += 1
        assert len(ids) <= max_batch
        assert ids == sorted(ids), "batch not oldest first"  # ids count up in creation order
        assert not set(ids) & set(self.delivered), "an object delivered twice"
        sent = stripe.queries[queries:]
        walked = sum(1 for q in sent if "ending_before" in q)
        listed = stripe.requests - requests - walked
        assert walked <= 1 + math.ceil(len(ahead) / PAGE), "requests per walk"
        assert listed in (0, max(1, math.ceil(window / PAGE))), "requests per listing"
        assert walked or listed, "a poll sent nothing"
        if self.exact:
            done = set(self.delivered)
            pending = [o["id"] for o in stripe.objects if o["id"] not in done]
            visible = [i for i in pending if stripe.visible_at[i] <= stripe.now]
            if walk_from is not None and not listed:
                visible = [i for i in visible if stripe.position(i) > stripe.position(walk_from)]
            assert ids == visible[:max_batch], "not the oldest pending visible objects"
        self.delivered += ids
        # The sensor keeps its cursor in XCom as JSON between runs.
        if result.cursor.floor > max(self.cursor.floor, stripe.now - self.lookback):
            self.narrowed += 1
        self.cursor = Cursor.from_json(result.cursor.to_json())
        assert self.cursor == result.cursor
        # Ids from the watermark's second, or from the walk's position if older, are never dropped:
        # they are what stops a re-delivery (polling/cursor.py); only the rest is held to the budget.
        keep_from = self.cursor.watermark
        if self.cursor.walk_from in self.cursor.delivered:
            keep_from = min(keep_from, self.cursor.delivered[self.cursor.walk_from])
        protected = sum(1 for c in self.cursor.delivered.values() if c >= keep_from)
        bound = max(cursor_module.MAX_REMEMBERED_IDS, protected)
        assert len(self.cursor.delivered) <= bound, "the cursor outgrew its budget"
        self.largest_cursor = max(self.largest_cursor, len(self.cursor.delivered))
        return result

    def drain(self) -> None:
        """Everything becomes visible; poll until nothing is new."""
        self.stripe.now += self.lookback
        while self.poll(1000).objects:
            pass


Event = tuple[str, int, int]

creations = st.tuples(st.just("create"), st.integers(1, 5), st.integers(0, LOOKBACK))
bursts = st.tuples(st.just("burst"), st.integers(PAGE + 1, 2 * PAGE + 50), st.integers(0, LOOKBACK))
ticks = st.tuples(st.just("tick"), st.integers(0, 12), st.just(0))
polls = st.tuples(
    st.just("poll"), st.one_of(st.integers(1, 300), st.sampled_from([99, 100, 101, 1000])), st.just(0)
)
scripts = st.lists(st.one_of(creations, bursts, ticks, polls, polls), max_size=30)

_totals: dict[str, int] = {}


def play(run: Run, script: list[Event]) -> None:
    for action, value, delay in script:
        if action == "tick":
            run.stripe.now += value
        elif action == "poll":
            run.poll(value)
        else:
            run.stripe.create(value, delay)
    run.drain()


def tally(name: str, run: Run) -> None:
    totals = _totals.setdefault(
        name, {"examples": 0, "objects": 0, "polls": 0, "narrowed": 0, "largest": 0, "exact": run.exact}
    )
    totals["examples"] += 1
    totals["objects"] += len(run.stripe.objects)
    totals["polls"] += run.polls
    totals["narrowed"] += run.narrowed
    totals["missed"] = totals.get("missed", 0) + len(run.stripe.objects) - len(run.delivered)
    totals["largest"] = max(totals["largest"], run.largest_cursor)


@settings(max_examples=150, deadline=None)
@given(scripts)
def test_any_batch_sizes_bursts_and_late_objects_deliver_each_object_once(script: list[Event]) -> None:
    stripe = StripeList()
    run = Run(stripe, Cursor.starting_at(stripe.now))
    play(run, script)
    assert len(run.delivered) == len(set(run.delivered))
    assert set(run.delivered) == {obj["id"] for obj in stripe.objects}, "an object was never delivered"
    tally("batches 1-1000, bursts of 101-250 in one second, delays up to the lookback", run)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2500),
    st.integers(1, 200),
    st.lists(st.integers(0, 12), min_size=1, max_size=8),
    st.integers(0, 3 * LOOKBACK),
)
def test_a_backlog_costs_its_pages_twice_at_most_and_an_idle_poll_one_request(
    backlog: int, per_second: int, ticks: list[int], age: int
) -> None:
    """Issue 12's bound: N objects (``per_second`` in each second, ``age`` seconds old when the
    sensor starts; Stripe's clock moving a few seconds between runs) are delivered in batches of 100
    for at most 2 x ceil(N/100) + (number of runs) requests. Once Stripe's clock is past the newest
    of them by more than the lookback and one poll has looked, an idle poll is one request."""
    stripe = StripeList()
    run = Run(stripe, Cursor.starting_at(stripe.now))
    for made in range(0, backlog, per_second):
        stripe.create(min(per_second, backlog - made), 0)
        stripe.now += 1
    stripe.now += age
    runs = 0
    while len(run.delivered) < backlog:
        run.poll(100)
        runs += 1
        stripe.now += ticks[runs % len(ticks)]
    assert len(run.delivered) == len(set(run.delivered)) == backlog
    assert stripe.requests <= 2 * math.ceil(backlog / PAGE) + runs, f"{stripe.requests} requests, {runs} runs"
    stripe.now += LOOKBACK + 1
    run.poll(100)
    before = stripe.requests
    assert run.poll(100).objects == []
    assert stripe.requests - before == 1, "an idle poll after the lookback is not one request"
    _cost["backlogs"] = _cost.get("backlogs", 0) + 1
    _cost["objects"] = _cost.get("objects", 0) + backlog
    _cost["requests"] = _cost.get("requests", 0) + stripe.requests
    _cost["bound"] = _cost.get("bound", 0) + 2 * math.ceil(backlog / PAGE) + runs


_cost: dict[str, int] = {}


@contextmanager
def remembered_ids(budget: int) -> Iterator[None]:
    with mock.patch.object(cursor_module, "MAX_REMEMBERED_IDS", budget):
        yield


SMALL_BUDGET = 60


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(creations, bursts, ticks, polls), max_size=25))
def test_a_burst_beyond_the_budget_keeps_the_cursor_bounded_and_loses_no_on_time_object(
    script: list[Event],
) -> None:
    """With a budget of 60 ids, bursts of over 100 in a second overflow it. The cursor stays within
    the budget (or the watermark's own second), no object comes twice, and every object that was
    visible at once is delivered: only a late object whose second fell out of the narrowed lookback
    can be missed, the trade-off docs/sensors.md documents."""
    with remembered_ids(SMALL_BUDGET):
        stripe = StripeList()
        run = Run(stripe, Cursor.starting_at(stripe.now), exact=False)
        play(run, script)
    assert len(run.delivered) == len(set(run.delivered))
    on_time = {obj["id"] for obj in stripe.objects if stripe.visible_at[obj["id"]] == obj["created"]}
    assert on_time <= set(run.delivered), "an on-time object was never delivered"
    tally(f"budget of {SMALL_BUDGET} ids, bursts beyond it, delays up to the lookback", run)


def test_the_real_budget_bounds_the_cursor_and_its_json() -> None:
    """6,000 on-time objects inside one lookback window (100 a second for 60 seconds), polled in
    batches of 1000: all delivered once, while the cursor never remembers more than 5,000 ids."""
    stripe = StripeList()
    run = Run(stripe, Cursor.starting_at(stripe.now), lookback=300)
    for _ in range(60):
        stripe.create(100, 0)
        stripe.now += 1
    sizes = []
    while run.poll(1000).objects:
        sizes.append(len(run.cursor.to_json()))
    assert len(run.delivered) == len(set(run.delivered)) == 6000
    assert run.largest_cursor == MAX_REMEMBERED_IDS
    assert run.narrowed == 1
    assert max(sizes) < 250_000  # "about 200 kB" in docs/sensors.md, with real-length ids
    record(
        "cursor size bound (real budget)",
        "6,000 charges in one 5-minute lookback window, batches of 1,000",
        f"{run.polls} polls, {stripe.requests} list requests",
        f"0 lost, 0 twice; the cursor peaked at {run.largest_cursor:,} ids, {max(sizes):,} bytes of JSON",
    )


def test_zz_report_the_property_figures() -> None:
    """Reports what the properties above ran (hypothesis examples, objects, polls)."""
    if _cost:
        record(
            "cursor model: cost of a backlog (walk with ending_before, floor on Stripe's clock)",
            f"{_cost['backlogs']} generated backlogs, {_cost['objects']:,} objects, batches of 100",
            f"{_cost['requests']:,} list requests (bound 2 x ceil(N/100) + runs: {_cost['bound']:,})",
            "0 lost, 0 twice; an idle poll after the lookback is 1 request",
        )
    for name, totals in _totals.items():
        checked = "each batch equal to the model's" if totals["exact"] else "each batch checked"
        narrowed = f", {totals['narrowed']} narrowed by the budget" if totals["narrowed"] else ""
        lost = "0 lost"
        if not totals["exact"]:
            lost = f"0 on-time objects lost ({totals['missed']} late ones fell out of a narrowed lookback)"
        record(
            f"cursor model: {name}",
            f"{totals['examples']} generated scripts, {totals['objects']:,} objects",
            f"{totals['polls']:,} polls ({checked}{narrowed})",
            f"{lost}, 0 twice (largest cursor {totals['largest']:,} ids)",
        )
