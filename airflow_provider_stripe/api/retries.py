"""When a failed attempt is sent again, and how long to wait first (tenacity does the looping)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from airflow_provider_stripe.api.settings import ClientSettings
from airflow_provider_stripe.exceptions import StripeError

log = logging.getLogger("airflow_provider_stripe")
T = TypeVar("T")


def is_retryable(error: BaseException) -> bool:
    """Connection errors, 409, 424, 429 and 5xx are; ``Stripe-Should-Retry`` overrides either way.

    A failed TLS handshake is not (``StripeTLSError``): an unverifiable certificate fails the same
    way every time, and stripe-python does not retry it either.
    """
    return isinstance(error, StripeError) and error.retryable


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("Stripe call failed (%s); attempt %d, retrying in %.2f s", error, state.attempt_number, wait)


def _policy(settings: ClientSettings) -> dict[str, object]:
    return {
        "stop": stop_after_attempt(settings.max_retries + 1),
        # Exponential backoff plus up to one initial delay of jitter, so that many tasks hitting
        # a 429 at once do not come back in step.
        "wait": wait_exponential(multiplier=settings.backoff_initial, max=settings.backoff_max)
        + wait_random(0, settings.backoff_initial),
        "retry": retry_if_exception(is_retryable),
        "before_sleep": _log_retry,
        "reraise": True,
    }


def send_with_retries(settings: ClientSettings, send: Callable[[], T]) -> T:
    """``send()``, sent again as the policy allows when it fails.

    The first attempt runs outside tenacity: a retry loop costs about 10 µs to build and enter,
    which is a noticeable share of a loopback call, and most calls succeed at once. After a
    failure tenacity takes over as if it had made that first attempt itself (same backoff, same
    log line, same attempt numbers): it is handed the failure as its attempt 1.
    """
    try:
        return send()
    except StripeError as error:
        failures = [error]

    def resend() -> T:
        if failures:
            raise failures.pop()
        return send()

    return Retrying(**_policy(settings))(resend)  # type: ignore[arg-type]


async def asend_with_retries(settings: ClientSettings, send: Callable[[], Awaitable[T]]) -> T:
    """:func:`send_with_retries` on an event loop (the trigger)."""
    try:
        return await send()
    except StripeError as error:
        failures = [error]

    async def resend() -> T:
        if failures:
            raise failures.pop()
        return await send()

    return await AsyncRetrying(**_policy(settings))(resend)  # type: ignore[arg-type]
