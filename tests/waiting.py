"""The suite's one way to wait: poll a condition until it holds, with a deadline generous enough for a
loaded machine. Never a fixed sleep followed by an assertion: the machine's speed decides nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds a wait gives a condition that should hold within a second or two on an idle machine.
GENEROUS = 120.0


def wait_for(what: str, check: Callable[[], T], timeout: float = GENEROUS, interval: float = 0.1) -> T:
    """Call ``check`` until it returns something truthy, and return that; fail after ``timeout`` seconds.

    :param what: what is awaited, for the error message.
    :param check: the condition; called at least once, and once more after the deadline.
    :param timeout: seconds before giving up.
    :param interval: seconds between two calls.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
