"""Refund events: react to every ``charge.refunded`` event on the Stripe account, once.

**How it starts:** on a change, "a charge was refunded" (fully or partly). Like
``stripe_new_refunds``, the DAG runs continuously, one run at a time, and each run begins by waiting
for events it has not delivered yet. The difference: this reads Stripe's change feed
(``GET /v1/events``), so it sees what *happened to* charges, including the amount refunded before
(``data.previous_attributes``), not only that a refund object exists.

**What it does:** one ``book_refund`` task instance per event (dynamic task mapping), each booking
how much this event refunded (``amount_refunded`` now minus before).

``refetch=True`` would replace each event's charge (a snapshot in the account's API version, taken
when the event happened) with the charge as it is now, at the connection's pinned API version, for
one extra request per charge. Stripe keeps events for 30 days: if this DAG is paused longer, its
next run fails naming the gap to fill with an export by data interval (see docs/change-feed.md).

Each event is delivered once; the first run starts "now" unless triggered with the config
``{"start_from": "2026-01-01T00:00:00Z"}`` (an ISO time or epoch seconds, within the last 30 days).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

from airflow_provider_stripe.sensors.stripe import StripeNewEventSensor

with DAG(
    dag_id="stripe_refund_events",
    schedule="@continuous",  # a new run as soon as the last one finished: the sensor is the trigger
    max_active_runs=1,  # required by @continuous; one sensor, one cursor
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "start_from": Param(
            None,
            type=["null", "string", "integer"],
            description="First run only: deliver events created since this ISO time or epoch "
            "second (at most 30 days ago). Empty: since the run started.",
        )
    },
    # Renders "{{ params.start_from }}" as None (not "None") when it is not set.
    render_template_as_native_obj=True,
    tags=["stripe", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_sensor_stripe_new_event]
    refund_events = StripeNewEventSensor(
        task_id="wait_for_refund_events",
        stripe_conn_id="stripe_default",
        event_types=["charge.refunded"],  # up to 20 types, or one wildcard such as "charge.*"
        poke_interval=timedelta(minutes=5),
        mode="reschedule",  # free the worker slot between polls
        start_from="{{ params.start_from }}",
        # stripe_account="acct_..." would read a connected account's events (Stripe Connect).
    )
    # [END howto_sensor_stripe_new_event]

    @task
    def book_refund(event: dict[str, Any]) -> dict[str, Any]:
        """Book what one event refunded: here, log it. Replace with your own bookkeeping."""
        charge = event["data"]["object"]
        before = event["data"].get("previous_attributes", {}).get("amount_refunded", 0)
        refunded = charge["amount_refunded"] - before
        print(
            f"{event['id']}: charge {charge['id']} refunded {refunded / 100:.2f} "
            f"{charge['currency'].upper()} (now {charge['amount_refunded'] / 100:.2f} of "
            f"{charge['amount'] / 100:.2f})"
        )
        return {
            "event": event["id"],
            "charge": charge["id"],
            "refunded": refunded,
            "currency": charge["currency"],
        }

    # One book_refund task instance per event the sensor returned.
    book_refund.expand(event=refund_events.output)
