"""A watch over one Stripe list: its settings, checked once, shared by sensors and triggers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from airflow_provider_stripe.exceptions import StripeError, StripeValidationError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import PollResult, PollSteps, poll
from airflow_provider_stripe.validation import number

DEFAULT_LOOKBACK = timedelta(minutes=5)
DEFAULT_LOOKBACK_SECONDS = int(DEFAULT_LOOKBACK.total_seconds())
DEFAULT_MAX_BATCH = 100
#: Seconds between polls of a sensor, its deferred trigger and an event trigger: 5,760 a day idle.
DEFAULT_POLL_INTERVAL = 15.0
MAX_BATCH_LIMIT = 1000
MAX_LOOKBACK = timedelta(days=1)
#: Checks ``max_batch`` (``MAX_BATCH.check("max_batch", value)``): the most objects one poll returns.
MAX_BATCH = number(1, MAX_BATCH_LIMIT, whole=True, strings=False, hint="the most objects one poll returns")
#: Checks ``lookback``, a timedelta or seconds, and gives its seconds.
LOOKBACK = number(
    0, MAX_LOOKBACK.total_seconds(), strings=False, durations=True, hint="a timedelta or seconds"
)

#: The lists a watch can follow, the filters each accepts, and the id prefixes of each filter's
#: objects (a charge made with a card is ``ch_``, with other payment methods ``py_``).
WATCHABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "/v1/charges": {"customer": ("cus_",)},
    "/v1/refunds": {"charge": ("ch_", "py_"), "payment_intent": ("pi_",)},
    "/v1/events": {},  # filtered by event type instead: see polling/events.py
}
_ID_BODY = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Watch:
    """What to watch (list path and filters) and how (batch size, lookback window)."""

    path: str
    filters: Mapping[str, Any] = field(default_factory=dict)
    max_batch: int = DEFAULT_MAX_BATCH
    lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS

    @classmethod
    def checked(
        cls, path: str, filters: Mapping[str, Any], max_batch: Any, lookback: timedelta | float | int
    ) -> Watch:
        """Validate the settings a user gave, naming the field at fault."""
        allowed = WATCHABLE[path]
        for name, value in filters.items():
            if name not in allowed:
                raise StripeValidationError(f"{path} cannot be filtered by {name!r}.", param=name)
            if value is None or value == "":
                continue
            prefixes = allowed[name]
            if not (
                isinstance(value, str)
                and value.startswith(prefixes)
                and _ID_BODY.fullmatch(value.partition("_")[2])
            ):
                raise StripeValidationError(
                    f"{name} must be one Stripe {name.replace('_', ' ')} id "
                    f"({' or '.join(p + '...' for p in prefixes)}), got {value!r}.",
                    param=name,
                )
        max_batch = MAX_BATCH.check("max_batch", max_batch)
        seconds = LOOKBACK.check("lookback", lookback)
        return cls(path, {k: v for k, v in filters.items() if v}, max_batch, math.ceil(seconds))

    def poll(self, cursor: Cursor) -> PollSteps:
        """The steps of one poll from ``cursor`` (see :func:`~airflow_provider_stripe.polling.poll.poll`)."""
        return poll(cursor, self.filters, max_batch=self.max_batch, lookback_seconds=self.lookback_seconds)

    def describe(self, result: PollResult, what: str) -> str:
        """One log line about a poll's outcome."""
        if not result.objects:
            return f"No new {what} since {result.cursor.floor} ({result.pages} request(s))."
        return (
            f"{len(result.objects)} new {what} (oldest {result.objects[0]['id']}, newest "
            f"{result.objects[-1]['id']}) in {result.pages} request(s); cursor watermark "
            f"{result.cursor.watermark}, remembering {len(result.cursor.delivered)} id(s)."
        )


def ends_the_wait(error: StripeError) -> bool:
    """Transient failures (429, 5xx, no answer) after the hook's retries do not end a wait: the
    next poll tries again. Anything else (bad key, missing permission, bad filter) does."""
    return not error.transient
