"""Property: any interleaving of creations, visibility delays and polls delivers each object once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import run_poll
from airflow_provider_stripe.polling.watch import Watch
from tests.polling.fake_list import FakeList

LOOKBACK = 30

events = st.lists(
    st.one_of(
        # create an object now, visible after a delay shorter than the lookback
        st.tuples(st.just("create"), st.integers(0, LOOKBACK - 1)),
        # time passes
        st.tuples(st.just("tick"), st.integers(0, 10)),
        # a sensor run polls, with some batch size
        st.tuples(st.just("poll"), st.integers(1, 7)),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(events, st.integers(1, 4))
def test_every_object_delivered_exactly_once(script: list[tuple[str, int]], burst: int) -> None:
    stripe = FakeList(now=1000)
    cursor = Cursor.starting_at(1000)
    delivered: list[str] = []
    for action, value in script:
        if action == "create":
            for _ in range(burst):
                stripe.add(stripe.now, delay=value)
        elif action == "tick":
            stripe.now += value
        else:
            result = run_poll(Watch("/v1/charges", {}, value, LOOKBACK).poll(cursor), stripe.page)
            delivered += [o["id"] for o in result.objects]
            cursor = result.cursor
    # drain: let everything become visible, then poll until idle
    stripe.now += LOOKBACK
    while True:
        result = run_poll(Watch("/v1/charges", {}, 100, LOOKBACK).poll(cursor), stripe.page)
        if not result.objects:
            break
        delivered += [o["id"] for o in result.objects]
        cursor = result.cursor
    assert len(delivered) == len(set(delivered)), "an object was delivered twice"
    assert set(delivered) == {o["id"] for o in stripe.objects}, "an object was never delivered"
