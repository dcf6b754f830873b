"""New refunds: wait for new Stripe refunds, then record each one in its own task.

**How it starts:** on a trigger, "a new refund was created". As in ``stripe_new_charges``, the DAG
runs continuously, one run at a time, and each run begins by waiting for refunds it has not
delivered yet.

**What it does:** records every new refund with dynamic task mapping (one ``record_refund`` task
instance per refund), then adds them up.

This sensor waits in ``reschedule`` mode instead of deferring: between two polls it gives its
worker slot back and the scheduler starts it again ``poke_interval`` later; no triggerer is
needed. Polling every 5 minutes is 288 API calls a day while idle.

Each refund is delivered once; the first run starts "now" unless triggered with the config
``{"start_from": "2026-01-01T00:00:00Z"}`` (an ISO time or epoch seconds).
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

from airflow_provider_stripe.sensors.stripe import StripeNewRefundSensor

with DAG(
    dag_id="stripe_new_refunds",
    schedule="@continuous",  # a new run as soon as the last one finished: the sensor is the trigger
    max_active_runs=1,  # required by @continuous; one sensor, one cursor
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "start_from": Param(
            None,
            type=["null", "string", "integer"],
            description="First run only: deliver refunds created since this ISO time or epoch "
            "second. Empty: since the run started.",
        )
    },
    # Renders "{{ params.start_from }}" as None (not "None") when it is not set.
    render_template_as_native_obj=True,
    tags=["stripe", "example"],
    doc_md=__doc__,
) as dag:
    new_refunds = StripeNewRefundSensor(
        task_id="wait_for_new_refunds",
        stripe_conn_id="stripe_default",
        poke_interval=timedelta(minutes=5),
        mode="reschedule",  # free the worker slot between polls
        start_from="{{ params.start_from }}",
        # charge="ch_..." would watch the refunds of one charge only.
    )

    @task
    def record_refund(refund: dict[str, Any]) -> dict[str, Any]:
        """Record one refund: here, log it. Replace with your own bookkeeping."""
        print(
            f"Refund {refund['id']} of charge {refund['charge']}: "
            f"{refund['amount'] / 100:.2f} {refund['currency'].upper()} ({refund['status']})"
        )
        return {
            "refund": refund["id"],
            "charge": refund["charge"],
            "amount": refund["amount"],
            "currency": refund["currency"],
        }

    @task
    def total_refunded(lines: list[dict[str, Any]]) -> dict[str, int]:
        """Add the batch up per currency (amounts in the currency's smallest unit)."""
        totals: dict[str, int] = {}
        for line in lines:
            totals[line["currency"]] = totals.get(line["currency"], 0) + line["amount"]
        print(f"New refunds, in the smallest currency unit: {totals}")
        return totals

    # One record_refund task instance per refund the sensor returned.
    total_refunded(record_refund.expand(refund=new_refunds.output))
