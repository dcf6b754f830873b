"""A concurrent map that keeps the order of its input, with a bounded number of items taken ahead.

``ordered_map(function, items, threads=8)`` calls ``function`` on each item from a pool of threads
and yields the answers in the order of ``items``, as ``map`` would. It takes items from ``items``
(in the caller's thread: a database cursor stays in the thread that made it) only while fewer than
``ahead`` of them are in flight or answered and not yet yielded, so memory holds that many answers
at most, however many items there are; a slow item holds the answers behind it, not the threads.

The first failure stops the map: no further item is taken or started, the items already running
finish, and the failure is raised to the caller. Closing the generator early stops it the same way.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

_Item = TypeVar("_Item")
_Answer = TypeVar("_Answer")

#: Items taken ahead per thread by default: a thread that finishes finds its next item waiting.
AHEAD_PER_THREAD = 2


def ordered_map(
    function: Callable[[_Item], _Answer],
    items: Iterable[_Item],
    *,
    threads: int,
    ahead: int | None = None,
    name: str = "stripe-map",
) -> Generator[_Answer, None, None]:
    """``function(item)`` for each of ``items``, from ``threads`` threads, in the order of ``items``.

    :param threads: how many calls run at once.
    :param ahead: the most items in flight or answered and not yet yielded (default: two a thread).
    :param name: the threads' name prefix (in the task log and in stack dumps).
    :raises: the first failure of ``function``, once the calls already running have finished.
    """
    limit = max(threads, ahead or AHEAD_PER_THREAD * threads)
    pending: deque[Future[_Answer]] = deque()
    failed = threading.Event()

    def note(future: Future[_Answer]) -> None:
        if not future.cancelled() and future.exception() is not None:
            failed.set()

    def next_answer() -> _Answer:
        if failed.is_set():  # the earliest failure, without waiting for the items before it
            for future in pending:
                if future.done() and future.exception() is not None:
                    future.result()
        return pending.popleft().result()

    pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
    try:
        for item in items:
            future = pool.submit(function, item)
            future.add_done_callback(note)
            pending.append(future)
            if len(pending) >= limit:
                yield next_answer()
        while pending:
            yield next_answer()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
