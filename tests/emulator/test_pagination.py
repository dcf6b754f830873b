"""List pages, checked as properties over random stores: every walk sees every object once, in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_stripe.testing.store import Collection, ListWindow, Record


def build(seconds: list[int]) -> tuple[Collection, list[str]]:
    """A collection with one object per entry of ``seconds`` (its ``created``), made in list order."""
    collection = Collection("charge")
    for seq, created in enumerate(seconds):
        collection.add(Record({"id": f"ch_{seq}", "created": created}, seq, float(created)))
    newest_first = sorted(range(len(seconds)), key=lambda seq: (seconds[seq], seq), reverse=True)
    return collection, [f"ch_{seq}" for seq in newest_first]


def window(limit: int, after: str | None = None, before: str | None = None) -> ListWindow:
    return ListWindow(limit, after, before, None, None)


# Few distinct seconds, so that many objects share one; creation out of time order too (a clock set back).
stores = st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=60)
limits = st.integers(min_value=1, max_value=7)


@settings(max_examples=200)
@given(stores, limits)
def test_forward_walk_sees_everything_once_newest_first(seconds: list[int], limit: int) -> None:
    collection, expected = build(seconds)
    walked: list[str] = []
    page, has_more = collection.page(window(limit), lambda record: True)
    walked += [record.id for record in page]
    while has_more:
        page, has_more = collection.page(window(limit, after=walked[-1]), lambda record: True)
        walked += [record.id for record in page]
    assert walked == expected


@settings(max_examples=200)
@given(stores, limits)
def test_backward_walk_like_stripe_python_sees_everything_newer_once(seconds: list[int], limit: int) -> None:
    collection, expected = build(seconds)
    oldest = expected[-1]
    walked: list[str] = []
    page, has_more = collection.page(window(limit, before=oldest), lambda record: True)
    while True:
        walked += [record.id for record in reversed(page)]  # auto_paging_iter reads each page reversed
        if not has_more or not page:
            break
        page, has_more = collection.page(window(limit, before=page[0].id), lambda record: True)
    assert walked == list(reversed(expected[:-1]))


@given(stores, limits, st.data())
def test_filters_and_created_ranges(seconds: list[int], limit: int, data: st.DataObject) -> None:
    collection, expected = build(seconds)
    low = data.draw(st.integers(min_value=0, max_value=5))
    high = data.draw(st.integers(min_value=low, max_value=5))
    even = {f"ch_{seq}" for seq in range(0, len(seconds), 2)}
    page, has_more = collection.page(
        ListWindow(limit, None, None, low, high), lambda record: record.id in even
    )
    matching = [
        object_id
        for object_id in expected
        if object_id in even and low <= seconds[int(object_id[3:])] <= high
    ]
    assert [record.id for record in page] == matching[:limit]
    assert has_more == (len(matching) > limit)


def test_a_page_looks_at_about_a_page_of_records() -> None:
    collection, _ = build([second // 50 for second in range(10_000)])
    looked: list[str] = []

    def include(record: Record) -> bool:
        looked.append(record.id)
        return True

    collection.page(window(100, after="ch_5000"), include)
    assert len(looked) == 101  # the page plus one to learn has_more, not the store
