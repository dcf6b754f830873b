"""The pure rules that cut an export's window into ``created`` slices, and the export's budget."""

from __future__ import annotations

import itertools

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.transfers.pacing import Pacer, budget
from airflow_provider_stripe.transfers.slices import (
    MAX_SLICES,
    OBJECTS_PER_SLICE,
    created_slices,
    estimated_objects,
    slice_count,
)

DAY = 86_400


def test_slices_cover_the_window_once_newest_first_in_whole_seconds() -> None:
    slices = created_slices(1000, 1000 + DAY, 34)
    assert len(slices) == 34
    assert slices[0][1] == 1000 + DAY
    assert slices[-1][0] == 1000
    assert all(newer[0] == older[1] for newer, older in itertools.pairwise(slices))
    assert all(lt > gte for gte, lt in slices)
    widths = {lt - gte for gte, lt in slices}
    assert max(widths) - min(widths) <= 1


def test_slices_are_the_same_for_the_same_window() -> None:
    assert created_slices(5, 105, 7) == created_slices(5, 105, 7)


@pytest.mark.parametrize("count", [0, 11])
def test_a_window_cannot_be_cut_finer_than_a_second(count: int) -> None:
    with pytest.raises(ValueError, match="slices"):
        created_slices(0, 10, count)


def test_the_estimate_scales_the_newest_page_to_the_window() -> None:
    # 100 objects in the window's last 864 seconds: a day holds about 10,000.
    page = [DAY - 1 - int(8.64 * index) for index in range(100)]
    assert estimated_objects(0, DAY, page) == pytest.approx(10_000, rel=0.02)
    assert estimated_objects(0, DAY, []) == 0
    # A page all in the window's last second cannot divide by zero.
    assert estimated_objects(0, DAY, [DAY - 1] * 100) == 100 * DAY


def test_slices_hold_several_full_pages() -> None:
    assert slice_count(0, DAY, 10_000) == 53  # about 190 objects (two pages, nearly full) each
    assert slice_count(0, DAY, 100) == 1
    assert slice_count(0, 5, 10_000) == 5  # at most one a second
    assert slice_count(0, 10 * DAY, 10**9) == MAX_SLICES
    assert 150 <= OBJECTS_PER_SLICE < 200


def test_the_budget_is_stripes_limit_for_the_keys_mode_unless_given() -> None:
    assert budget(None, "test") == 25
    assert budget(None, "live") == 100
    assert budget(7.5, "live") == 7.5
    with pytest.raises(StripeValidationError, match="requests_per_second"):
        budget(0, "test")


def test_the_pacer_spaces_requests_and_halves_on_a_429() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        pacer.acquire()
    assert waits == pytest.approx([1 / 9.5] * 3)  # 95% of the budget
    pacer.throttled()
    assert pacer.rate == pytest.approx(4.75)
    assert pacer.rate_limited == 1
    for _ in range(20):
        pacer.succeeded()
    assert pacer.rate == pytest.approx(9.5)
