"""Injected failures: the next N requests fail (an HTTP error or a dropped connection).

A fault can strike before the request is handled (nothing happens on the "server") or after it
(``after_handler``: the object is created, then the response is lost), which is the case a client's
idempotent retry exists for.
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
    status: FaultKind
    should_retry: bool | None = None
    after_handler: bool = False

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
            error = StripeAPIError(
                int(self.status),
                f"Request failed with HTTP {self.status}, injected by the Stripe emulator's fail_next().",
                type="card_error" if self.status == 402 else "invalid_request_error",
            )
        if self.should_retry is not None:
            error.headers["Stripe-Should-Retry"] = "true" if self.should_retry else "false"
        return error


class FaultQueue:
    """What the coming requests get, in order: a fault, or None to let one through."""

    def __init__(self) -> None:
        self._pending: deque[Fault | None] = deque()

    def add(self, count: int, fault: Fault, after: int = 0) -> None:
        if count < 0 or after < 0:
            raise ValueError("count and after must be >= 0")
        if fault.status != "drop" and not (isinstance(fault.status, int) and 400 <= fault.status <= 599):
            raise ValueError(f"status must be an HTTP error status (400-599) or 'drop', not {fault.status!r}")
        self._pending.extend([None] * after + [fault] * count)

    def take(self) -> Fault | None:
        return self._pending.popleft() if self._pending else None

    def clear(self) -> None:
        self._pending.clear()
