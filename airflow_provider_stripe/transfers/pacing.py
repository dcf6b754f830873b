"""An export's request budget: Stripe's documented rate limit for the key's mode, and the pacer that
keeps the export's requests under it, slowing down when Stripe answers 429 anyway.

Stripe allows 25 read requests a second in a sandbox (test mode) and 100 in live mode
(https://docs.stripe.com/rate-limits). The limit is the account's, shared with everything else
that uses the key, so the pacer aims a little under the budget, and halves its pace at each 429
(``rate_limit``: another client is using the account's budget too), then recovers step by step.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from airflow_provider_stripe.validation import number

#: Stripe's documented read requests a second, by the key's mode.
DOCUMENTED_READS_PER_SECOND = {"test": 25, "live": 100}
#: The share of the budget the pacer aims at: the rest absorbs the jitter of requests in flight.
HEADROOM = 0.95
#: The most requests a second a budget may ask for (Stripe raises limits on request, not beyond this).
MAX_REQUESTS_PER_SECOND = 1000
#: The slowest the pacer goes after 429s: never stalls outright.
MIN_REQUESTS_PER_SECOND = 0.5

#: Checks ``requests_per_second`` (``REQUESTS_PER_SECOND.check("requests_per_second", value)``).
REQUESTS_PER_SECOND = number(
    0.1,
    MAX_REQUESTS_PER_SECOND,
    strings=False,
    hint="the export's share of the account's rate limit; default: Stripe's limit for the key's mode",
)


def budget(requests_per_second: float | None, mode: str) -> float:
    """The requests a second an export may use: the caller's, else Stripe's limit for ``mode``."""
    if requests_per_second is None:
        return float(DOCUMENTED_READS_PER_SECOND[mode])
    checked: float = REQUESTS_PER_SECOND.check("requests_per_second", requests_per_second)
    return checked


class Pacer:
    """Spaces the requests of all of an export's threads at most ``HEADROOM x budget`` a second.

    Turns go in order of asking, except that a request Stripe answered 429 asks again ahead of the
    requests not yet tried: it is the oldest work, and a slice held back at the end of an export
    costs the export a whole answer time.

    :param per_second: the budget (requests a second).
    :param clock: a monotonic clock in seconds; :param sleep: how to wait for a turn (both for tests).
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = per_second * HEADROOM
        self.rate = self.target
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # The requests waiting for a turn, in turn order: (0 for a retry else 1, ticket, its wake-up).
        self._waiting: list[tuple[int, int, threading.Event]] = []
        self._tickets = itertools.count()
        self._next = clock()
        self.rate_limited = 0

    def acquire(self, *, first: bool = False) -> float:
        """Wait for this request's turn and return its place in the timetable (the pacer's clock).

        Only the request next in line waits for the clock; the others wait to be next (each is
        woken alone, so a hundred waiting threads cost nothing a turn).

        :param first: ahead of every request not yet tried (a request Stripe answered 429).
        """
        woken = threading.Event()
        with self._lock:
            ticket = next(self._tickets)
            heapq.heappush(self._waiting, (0 if first else 1, ticket, woken))
        while True:
            with self._lock:
                next_in_line = self._waiting[0][1] == ticket
                if next_in_line:
                    now = self._clock()
                    if now >= self._next:
                        heapq.heappop(self._waiting)
                        # Turns keep to their timetable: a turn taken late (a thread woken late,
                        # waiting for the GIL) does not push back the next, within one interval.
                        # So no second holds more than the pace plus one request.
                        interval = 1.0 / self.rate
                        turn = max(self._next, now - interval)
                        self._next = turn + interval
                        if self._waiting:
                            self._waiting[0][2].set()
                        return turn
                    wait = self._next - now
            if next_in_line:
                self._sleep(wait)
            else:
                woken.wait(1.0)  # set when the request ahead takes its turn
                woken.clear()

    def succeeded(self) -> None:
        """One request went through: creep back toward the target (about a second from half pace)."""
        with self._lock:
            self.rate = min(self.target, self.rate + self.target / max(1.0, self.rate))

    def throttled(self) -> None:
        """Stripe answered 429: halve the pace, and let the next turn wait a full new interval."""
        with self._lock:
            self.rate_limited += 1
            self.rate = max(MIN_REQUESTS_PER_SECOND, self.rate / 2)
            self._next = max(self._next, self._clock() + 1.0 / self.rate)
