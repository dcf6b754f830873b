"""New charges: wait for new Stripe charges, then book each one in its own task.

**How it starts:** on a trigger, "a new charge was created". The DAG runs continuously, one run
at a time: each run's sensor waits until Stripe lists charges it has not delivered yet, returns
them (oldest first), and the next run starts waiting again as soon as this one finishes.

**What it does:** books every new charge with dynamic task mapping: one ``book_charge`` task
instance per charge (so one bad charge fails alone and is retried alone), then a summary.

No charge is delivered twice and none is skipped: the sensor stores a cursor in its XCom, and the
next run continues from it. The very first run starts "now" (charges that already exist are not
news); to start from an earlier moment, trigger the first run with the config
``{"start_from": "2026-01-01T00:00:00Z"}`` (an ISO time or epoch seconds).

The sensor is deferrable: while it waits, it holds no worker slot, and the triggerer polls Stripe
(so the deployment needs a running ``airflow triggerer``). Each idle poll is one API call:
every 60 s is 1,440 calls a day.
"""

from __future__ import annotations

from typing import Any

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

with DAG(
    dag_id="stripe_new_charges",
    schedule="@continuous",  # a new run as soon as the last one finished: the sensor is the trigger
    max_active_runs=1,  # required by @continuous; one sensor, one cursor
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "start_from": Param(
            None,
            type=["null", "string", "integer"],
            description="First run only: deliver charges created since this ISO time or epoch "
            "second. Empty: since the run started.",
        )
    },
    # Renders "{{ params.start_from }}" as None (not "None") when it is not set.
    render_template_as_native_obj=True,
    tags=["stripe", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_sensor_stripe_new_charge]
    new_charges = StripeNewChargeSensor(
        task_id="wait_for_new_charges",
        stripe_conn_id="stripe_default",
        poke_interval=60,  # seconds between polls while nothing is new
        deferrable=True,  # wait on the triggerer, not in a worker slot
        max_batch=100,  # the most charges one run takes; a bigger backlog comes in the next runs
        start_from="{{ params.start_from }}",
    )
    # [END howto_sensor_stripe_new_charge]

    @task
    def book_charge(charge: dict[str, Any]) -> dict[str, Any]:
        """Book one charge: here, log it and return the line for the summary.

        Replace the body with your own: write to your ledger, send the receipt, update the CRM...
        """
        line = {
            "charge": charge["id"],
            "customer": charge.get("customer"),
            "amount": charge["amount"],
            "currency": charge["currency"],
            "paid": charge["paid"],
        }
        print(f"Booked {line['charge']}: {charge['amount'] / 100:.2f} {charge['currency'].upper()}")
        return line

    @task
    def summarize(lines: list[dict[str, Any]]) -> dict[str, Any]:
        """One line for the whole batch (the mapped results arrive as one list)."""
        charge_ids = [line["charge"] for line in lines]
        print(f"Booked {len(charge_ids)} new charge(s): {', '.join(charge_ids)}")
        return {"charges": charge_ids, "count": len(charge_ids)}

    # [START howto_sensor_stripe_new_charge_expand]
    # One book_charge task instance per charge the sensor returned.
    summarize(book_charge.expand(charge=new_charges.output))
    # [END howto_sensor_stripe_new_charge_expand]
