"""Which objects one export run takes: a data interval of ``created`` seconds, and when it is safe to list.

Pure functions: no clock, no I/O. The operator asks Stripe for the time and hands it in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.polling.watch import LOOKBACK
from airflow_provider_stripe.validation import choice

WINDOWS = ("data_interval", "incremental", "all")

_EMPTY_INTERVAL = (
    "The run's data interval is empty ({start} to {end}), so window='data_interval' would export "
    "nothing. On Airflow 3 a cron string or timedelta `schedule` means a trigger timetable "
    "(CronTriggerTimetable / DeltaTriggerTimetable), whose runs have no interval. Schedule the DAG "
    "with CronDataIntervalTimetable(cron, timezone=...) or DeltaDataIntervalTimetable(delta), or "
    "give the trigger timetable an interval (CronTriggerTimetable(cron, timezone=..., "
    "interval=timedelta(days=1))); or export with window='incremental'."
)


#: Checks ``window`` (``WINDOW.check("window", value)``).
WINDOW = choice(*WINDOWS)


def lookback_seconds(lookback: Any) -> int:
    """Whole seconds of a ``lookback`` given as a timedelta or seconds (0 to 1 day)."""
    seconds: float = LOOKBACK.check("lookback", lookback)
    return math.ceil(seconds)


@dataclass(frozen=True)
class CreatedInterval:
    """The objects with ``created_gte <= created < created_lt`` (Stripe's whole epoch seconds).

    Adjacent data intervals share their boundary, so adjacent runs neither overlap nor leave a gap.
    """

    created_gte: int
    created_lt: int

    @classmethod
    def of_data_interval(cls, start: datetime | None, end: datetime | None) -> CreatedInterval:
        """The interval of a run's ``data_interval_start`` / ``data_interval_end``.

        A boundary inside a second rounds up: ``created >= 10.5`` holds exactly for ``created >= 11``.

        :raises StripeValidationError: when the interval is missing or empty (a trigger timetable).
        """
        if start is None or end is None or end <= start:
            raise StripeValidationError(_EMPTY_INTERVAL.format(start=start, end=end), param="window")
        return cls(math.ceil(start.timestamp()), math.ceil(end.timestamp()))

    def created_filter(self) -> dict[str, int]:
        """Stripe's ``created[gte]`` / ``created[lt]`` for this interval."""
        return {"gte": self.created_gte, "lt": self.created_lt}

    def seconds_until_listable(self, stripe_now: datetime, lookback_seconds: int) -> float:
        """How long to wait, on Stripe's clock, before every object of the interval is visible.

        Stripe may list an object a little after its ``created``: the interval is listed only once
        ``created_lt + lookback`` has passed. Zero or less means list now.
        """
        return self.created_lt + lookback_seconds - stripe_now.timestamp()
