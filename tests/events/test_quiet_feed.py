"""A quiet change feed never trips the 30-day retention check: runs that deliver nothing save their
floor, which follows Stripe's clock (issue 21).

Stripe keeps events 30 days ("List all events", https://docs.stripe.com/api/events/list). A watch
that keeps looking has no gap, however long nothing happens; one that stopped looking for more than
30 days has one, and still fails naming it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import stripe

from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.sensors.stripe import CURSOR_XCOM_KEY
from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import RunResult, run_dag
from tests.events.test_event_sensor import delivered, event_sensor_dag

DAY = 24 * 3600
LOOKBACK = 300
FIRST_DAY = datetime(2026, 4, 1)


def customer_ids(result: RunResult) -> list[str]:
    return [event["data"]["object"]["id"] for event in delivered(result)]


@pytest.mark.usefixtures("stripe_connection")
@pytest.mark.parametrize("mode", [{"mode": "poke"}, {"deferrable": True}], ids=["poke", "deferrable"])
def test_a_quiet_feed_for_31_days_does_not_trip_the_retention_check(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient, mode: dict[str, object]
) -> None:
    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    dag = event_sensor_dag(
        f"events_quiet_{next(iter(mode.values()))}",
        start,
        event_types=["customer.created"],
        lookback=LOOKBACK,
        timeout=0.5,
        **mode,
    )
    first = client.v1.customers.create()
    assert customer_ids(run_dag(dag, FIRST_DAY)) == [first.id]

    # Nothing happens for 31 days on Stripe's clock; a run every 10 days times out, saving its floor.
    for day in (10, 20, 31):
        stripe_emulator.clock.set(start + day * DAY)
        quiet = run_dag(dag, FIRST_DAY + timedelta(days=day))
        assert quiet.state_of("new") == "failed"  # the sensor's timeout (retries do not apply)
        assert quiet.tries[("new", -1)] == 1
        saved = Cursor.from_json(quiet.xcom("new", CURSOR_XCOM_KEY))
        assert saved.floor == stripe_emulator.clock.now() - LOOKBACK

    later = client.v1.customers.create()
    assert customer_ids(run_dag(dag, FIRST_DAY + timedelta(days=32))) == [later.id]

    # A watch that stopped looking for 31 days still fails naming the gap (no run in between).
    stripe_emulator.clock.advance(31 * DAY)
    gap = run_dag(dag, FIRST_DAY + timedelta(days=63))
    assert gap.state_of("new") == "failed"
    assert gap.xcom("new", CURSOR_XCOM_KEY) is None
