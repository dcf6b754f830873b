"""ordered_map: concurrent, in the input's order, a bounded number of items ahead, stopped by a failure.

Pure (no HTTP): items are released by the test (events), never by time.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from airflow_provider_stripe.transfers.ordered_map import ordered_map

#: A generous bound for waits on other threads (never reached unless something is wrong).
DEADLINE = 60.0


class Source:
    """Numbers 0, 1, 2... counting how many were taken and from which threads."""

    def __init__(self, count: int | None = None) -> None:
        self.taken = 0
        self.threads: set[int] = set()
        self._numbers = itertools.count() if count is None else iter(range(count))

    def __iter__(self) -> Iterator[int]:
        for number in self._numbers:
            self.taken += 1
            self.threads.add(threading.get_ident())
            yield number


def test_answers_come_in_the_order_of_the_items_although_they_finish_in_reverse() -> None:
    count = 8
    finished: list[int] = []
    turn = {number: threading.Event() for number in range(count)}
    turn[count - 1].set()  # the last item finishes first, each one lets the one before it go

    def work(number: int) -> int:
        assert turn[number].wait(DEADLINE)
        finished.append(number)
        if number:
            turn[number - 1].set()
        return number * 10

    source = Source(count)
    assert list(ordered_map(work, source, threads=count)) == [n * 10 for n in range(count)]
    assert finished == list(reversed(range(count)))
    assert source.threads == {threading.get_ident()}  # items are taken in the caller's thread


def test_no_more_than_ahead_items_are_taken_before_the_first_answer_is_read() -> None:
    source = Source()
    started = threading.Semaphore(0)

    def work(number: int) -> int:
        started.release()
        return number

    answers = ordered_map(work, source, threads=4, ahead=6)
    assert next(answers) == 0
    for _ in range(6):
        assert started.acquire(timeout=DEADLINE)
    assert source.taken == 6  # an endless source: the window, not the input, bounds what is held
    assert [next(answers) for _ in range(3)] == [1, 2, 3]
    assert source.taken == 9
    answers.close()


def test_a_failure_stops_the_map_and_is_raised() -> None:
    source = Source()
    ran: list[int] = []

    def work(number: int) -> int:
        ran.append(number)
        if number == 5:
            raise ValueError("item 5")
        return number

    got: list[int] = []
    answers = ordered_map(work, source, threads=2, ahead=4)
    with pytest.raises(ValueError, match="item 5"):
        got.extend(answers)  # keeps what came before the failure
    assert got == [0, 1, 2, 3, 4][: len(got)]  # in order; raised as soon as seen, maybe before 4
    assert source.taken <= 5 + 4  # nothing taken beyond the window once item 5 failed
    assert sorted(ran) == list(range(len(ran)))  # and every item taken before ran or was cancelled


def test_closing_early_stops_the_threads() -> None:
    release = threading.Event()

    def work(number: int) -> int:
        if number:
            assert release.wait(DEADLINE)
        return number

    before = threading.active_count()
    answers = ordered_map(work, Source(), threads=3)
    assert next(answers) == 0
    release.set()
    answers.close()
    assert threading.active_count() == before  # the pool is shut down by close()
