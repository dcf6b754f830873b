"""Which cursors Stripe's 30-day event retention fails, on the cursor of the reworked poll.

Source: Stripe API reference, "List all events": events are listed for the past 30 days only.
What may still hold news is the cursor's ``floor`` (it follows Stripe's clock on every poll, idle
or not) and, while a backlog is walked, the walk's position; the newest delivered ``created``
(``watermark``) says nothing about a gap.
"""

from __future__ import annotations

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.events import check_retention

NOW = 1_800_000_000
DAY = 24 * 3600


def test_an_idle_watch_whose_last_event_is_old_is_not_a_gap() -> None:
    """No matching event for 40 days, but the watch kept polling (an event trigger's cursor in
    memory, or a poke mode sensor's within a try): its floor is minutes old."""
    idle = Cursor(watermark=NOW - 40 * DAY, floor=NOW - 300, delivered={})
    check_retention(idle, NOW)


def test_a_watch_that_stopped_polling_for_31_days_fails() -> None:
    stopped = Cursor(watermark=NOW - 31 * DAY, floor=NOW - 31 * DAY - 300, delivered={})
    with pytest.raises(StripeValidationError, match="30 days") as raised:
        check_retention(stopped, NOW)
    assert raised.value.param == "stripe_cursor"


def test_a_backlog_walk_whose_position_aged_out_fails_though_its_floor_is_recent() -> None:
    """A walk resumes from ``walk_from`` (``ending_before``): events past it older than 30 days are gone."""
    walking = Cursor(
        watermark=NOW - 31 * DAY,
        floor=NOW - 300,
        delivered={"evt_walk": NOW - 31 * DAY},
        walk_from="evt_walk",
    )
    with pytest.raises(StripeValidationError, match="30 days"):
        check_retention(walking, NOW)
    check_retention(walking, NOW - 2 * DAY)  # two days earlier, the walk was within the window


def test_without_stripes_clock_nothing_is_judged() -> None:
    check_retention(Cursor.starting_at(0), None)
