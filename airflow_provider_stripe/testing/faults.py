"""Injected failures: the next N requests fail (an HTTP error or a dropped connection) or answer late.

A fault can strike before the request is handled (nothing happens on the "server") or after it
(``after_handler``: the object is created, then the response is lost), which is the case a client's
idempotent retry exists for. A fault is keyed to requests, never to time: either to the next requests
whatever they are, or to the next requests of one method and path prefix (the sensor's list calls, the
operator's create), so it strikes the request it is meant for however slow the machine is.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from airflow_provider_stripe.testing.errors import StripeAPIError, api_error, rate_limited

FaultKind = int | Literal["drop"]
"""An HTTP error status (400-599; usually 429 or 500) or ``"drop"`` (close without answering)."""


@dataclass(frozen=True)
class Fault:
    """What one request gets: an error or a drop (``status``), a late answer (``delay``), or both.

    :param status: the error to answer with, or None to answer normally.
    :param should_retry: the ``Stripe-Should-Retry`` header the error carries, if any.
    :param after_handler: carry the request out first, then replace its answer.
    :param delay: seconds to wait after carrying the request out before answering.
    """

    status: FaultKind | None = None
    should_retry: bool | None = None
    after_handler: bool = False
    delay: float = 0.0

    @property
    def drops(self) -> bool:
        return self.status == "drop"

    def error(self) -> StripeAPIError:
        """The Stripe error the fault answers with (plus ``Stripe-Should-Retry`` when set)."""
        if self.status == 429:
            error = rate_limited()
        elif self.status == 424:  # https://docs.stripe.com/error-codes: External Dependency Failed
            error = api_error(
                "The request couldn't be completed due to a failure in a dependency external to Stripe.", 424
            )
        elif isinstance(self.status, int) and self.status >= 500:
            error = api_error(status=self.status)
        else:
            assert isinstance(self.status, int), "a drop or a late answer has no error"
            error = StripeAPIError(
                self.status,
                f"Request failed with HTTP {self.status}, injected by the Stripe emulator's fail_next().",
                type="card_error" if self.status == 402 else "invalid_request_error",
            )
        if self.should_retry is not None:
            error.headers["Stripe-Should-Retry"] = "true" if self.should_retry else "false"
        return error

    def validate(self) -> None:
        """Raise ValueError for a status that is not an HTTP error or ``"drop"``, or a negative delay."""
        if self.status is not None and not (
            self.status == "drop" or (isinstance(self.status, int) and 400 <= self.status <= 599)
        ):
            raise ValueError(f"status must be an HTTP error status (400-599) or 'drop', not {self.status!r}")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")


@dataclass
class _Keyed:
    """``count`` faults for the requests of ``method`` (None: any) on paths starting with ``prefix``,
    after letting ``skip`` of them through."""

    method: str | None
    prefix: str
    skip: int
    count: int
    fault: Fault

    def take(self, method: str, path: str) -> Fault | None:
        if (self.method is not None and self.method != method) or not path.startswith(self.prefix):
            return None
        if self.skip:
            self.skip -= 1
            return None
        self.count -= 1
        return self.fault


class FaultQueue:
    """What the coming requests get: in order, an error fault or None to let one through; error faults
    kept for the coming requests of one method and path prefix, which other requests pass by; and late
    answers, which count only the requests carried out or replayed (not a 429, a refused parameter)."""

    def __init__(self) -> None:
        self._pending: deque[Fault | None] = deque()
        self._keyed: list[_Keyed] = []
        self._late: list[_Keyed] = []

    def add(
        self, count: int, fault: Fault, after: int = 0, method: str | None = None, path: str | None = None
    ) -> None:
        """Queue ``count`` faults after ``after`` requests; with ``method`` or ``path`` only matching
        requests count, and several such queues each count every matching request. A fault with no
        ``status`` is a late answer: only requests that are carried out count for it."""
        if count < 0 or after < 0:
            raise ValueError("count and after must be >= 0")
        fault.validate()
        keyed = _Keyed(method and method.upper(), path or "/", after, count, fault)
        if fault.status is None:
            self._late.append(keyed)
        elif method is None and path is None:
            self._pending.extend([None] * after + [fault] * count)
        else:
            self._keyed.append(keyed)

    def take(self, method: str, path: str) -> Fault | None:
        """The error fault this request gets, the first armed of those it meets (every queue it
        matches moves on by one)."""
        fault = self._pending.popleft() if self._pending else None
        hits = [keyed.take(method, path) for keyed in self._keyed]
        self._keyed = [keyed for keyed in self._keyed if keyed.count]
        return next((hit for hit in [fault, *hits] if hit is not None), None)

    def take_delay(self, method: str, path: str) -> float:
        """Seconds a request carried out (or replayed) waits before its answer (the longest it meets)."""
        hits = [keyed.take(method, path) for keyed in self._late]
        self._late = [keyed for keyed in self._late if keyed.count]
        return max((hit.delay for hit in hits if hit is not None), default=0.0)

    def clear(self) -> None:
        self._pending.clear()
        self._keyed.clear()
        self._late.clear()
