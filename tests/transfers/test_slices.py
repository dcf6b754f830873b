"""The pure rules that cut an export's window into ``created`` slices, and the export's budget."""

from __future__ import annotations

import itertools
import math
import threading

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.transfers.pacing import Pacer, budget
from airflow_provider_stripe.transfers.slices import (
    MAX_SLICES_A_SPLIT,
    created_slices,
    doubling_slices,
    split_after_page,
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


def _page(top: int, seconds_apart: float, objects: int = 100) -> list[int]:
    """The ``created`` of a full first page below ``top``, newest first."""
    return [top - 1 - int(seconds_apart * index) for index in range(objects)]


def test_the_rest_after_a_first_page_is_cut_by_the_pages_density() -> None:
    # 100 objects in the day's last 864 seconds: about 10,000 in the day, so about 53 slices of 190.
    page = _page(DAY, 8.64)
    own_from, slices = split_after_page(0, DAY, page) or (0, [])
    assert own_from == min(page) + 1  # the page's objects above its oldest second are the range's own
    assert 50 <= len(slices) <= 54
    assert slices[0][1] == own_from
    assert slices[-1][0] == 0
    assert all(newer[0] == older[1] for newer, older in itertools.pairwise(slices))


def test_a_rest_of_a_few_pages_is_walked_on() -> None:
    # 100 objects in the last 1,000 seconds of 4,000: about 300 more, three pages walked in a row.
    assert split_after_page(0, 4000, _page(4000, 10)) is None


def test_a_split_cuts_at_most_its_share_of_slices() -> None:
    page = _page(10 * DAY, 0.5)  # 2 objects a second, extrapolated over ten days
    _, slices = split_after_page(0, 10 * DAY, page) or (0, [])
    assert len(slices) == MAX_SLICES_A_SPLIT  # each is cut again after its own first page


def test_a_burst_second_is_listed_apart_and_says_nothing_of_the_rest() -> None:
    assert split_after_page(0, DAY, [DAY - 1] * 100) == (DAY, [(DAY - 1, DAY), (0, DAY - 1)])
    assert split_after_page(DAY - 1, DAY, [DAY - 1] * 100) == (DAY, [(DAY - 1, DAY)])
    assert split_after_page(None, None, [500] * 100) == (501, [(500, 501), (None, 500)])


def test_a_snapshots_rest_doubles_toward_the_past_down_to_an_open_slice() -> None:
    now = 1_800_000_000
    page = _page(now, 36)  # 100 objects an hour
    own_from, slices = split_after_page(None, None, page) or (0, [])
    assert own_from == min(page) + 1
    first = math.ceil(190 * (max(page) + 1 - min(page)) / 100)  # about 190 objects at the page's density
    widths = [lt - gte for gte, lt in slices if gte is not None]
    assert widths == [first * 2**index for index in range(len(widths))]
    assert slices[-1][0] is None
    assert len(slices) < 20
    assert all(newer[0] == older[1] for newer, older in itertools.pairwise(slices))
    assert doubling_slices(10, 4) == [(6, 10), (None, 6)]


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


def test_a_request_answered_429_takes_the_next_turn_ahead_of_those_not_yet_tried() -> None:
    now = [0.0]
    released = threading.Event()
    asleep = threading.Semaphore(0)

    def sleep(seconds: float) -> None:
        asleep.release()
        released.wait()
        with lock:
            now[0] += seconds

    lock = threading.Lock()
    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)
    assert pacer.acquire() == 0.0
    turns: dict[str, float] = {}

    def ask(name: str, first: bool = False) -> None:
        turns[name] = pacer.acquire(first=first)

    untried = threading.Thread(target=ask, args=("untried",))
    untried.start()
    assert asleep.acquire(timeout=60)  # waiting for its turn
    waiting = threading.Thread(target=ask, args=("untried, asked later",))
    waiting.start()
    retried = threading.Thread(target=ask, args=("answered 429", True))
    retried.start()
    assert asleep.acquire(timeout=60)  # ahead of the line, waiting for the same turn
    released.set()
    for thread in (untried, waiting, retried):
        thread.join(timeout=60)
    assert sorted(turns, key=turns.__getitem__) == ["answered 429", "untried", "untried, asked later"]
    assert len(set(turns.values())) == 3
