"""Stripe's basic rate limiter: requests a second per account, per mode, reads and writes apart.

Stripe's rate-limit page (https://docs.stripe.com/rate-limits, "Rate limiter") allows 25 read and
25 write operations a second in a sandbox (test mode) and 100 of each in live mode, each mode
counted apart. Above the limit Stripe answers 429 ``rate_limit`` (:func:`errors.rate_limited`) with
the ``Stripe-Rate-Limited-Reason`` header, ``global-rate`` for this limiter. Stripe's stricter
per-endpoint and concurrency limiters are not modelled.

A request counts when it is admitted; a refused one does not use up the second it was refused in.
"""

from __future__ import annotations

import time
from collections import deque

#: Sandbox (test mode) operations a second, reads and writes each (https://docs.stripe.com/rate-limits).
SANDBOX_PER_SECOND = 25
#: Live-mode operations a second, reads and writes each (same page).
LIVE_PER_SECOND = 100


def checked_per_second(name: str, per_second: int | None) -> int | None:
    """A limit must be a whole number of requests a second, at least 1; None means no limit."""
    if per_second is not None and (
        isinstance(per_second, bool) or not isinstance(per_second, int) or per_second < 1
    ):
        raise ValueError(
            f"{name} must be a whole number of requests a second >= 1, or None; got {per_second!r}"
        )
    return per_second


class _Window:
    """At most ``per_second`` admissions in any sliding second of real time."""

    def __init__(self, per_second: int | None) -> None:
        self.per_second = per_second
        self._admitted: deque[float] = deque()

    def admit(self, now: float) -> bool:
        if self.per_second is None:
            return True
        while self._admitted and self._admitted[0] <= now - 1.0:
            self._admitted.popleft()
        if len(self._admitted) >= self.per_second:
            return False
        self._admitted.append(now)
        return True


class RateLimiter:
    """The account's limits: ``sandbox`` requests a second in test mode, ``live`` in live mode.

    Reads (``GET``) and writes (everything else) have a window each, as Stripe counts them.

    :param sandbox: test-mode requests a second (reads and writes each); None: no limit.
    :param live: live-mode requests a second; None: no limit.
    """

    def __init__(self, sandbox: int | None = SANDBOX_PER_SECOND, live: int | None = LIVE_PER_SECOND) -> None:
        self.sandbox = checked_per_second("rate_limit", sandbox)
        self.live = checked_per_second("live_rate_limit", live)
        self._windows: dict[tuple[bool, bool], _Window] = {}

    def set(self, sandbox: int | None, live: int | None) -> None:
        """New limits, counted from now."""
        self.sandbox = checked_per_second("rate_limit", sandbox)
        self.live = checked_per_second("live_rate_limit", live)
        self._windows.clear()

    def admit(self, livemode: bool, method: str) -> bool:
        """Whether one more request of this mode and method fits in the current second."""
        write = method.upper() != "GET"
        window = self._windows.get((livemode, write))
        if window is None:
            window = self._windows[(livemode, write)] = _Window(self.live if livemode else self.sandbox)
        return window.admit(time.monotonic())
