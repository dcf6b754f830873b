"""Event-driven: a DAG run for every batch of new Stripe charges, with no sensor task at all.

**How it starts:** on an event. An ``AssetWatcher`` runs ``StripeNewChargeEventTrigger`` on the
triggerer; each time it finds new charges, it records an event on the asset
``stripe_new_charges``, and this DAG, scheduled on that asset, runs once for the batch. No task
waits and no worker slot is held between charges.

**Needs Airflow 3.3 or newer** (the trigger keeps its cursor in the asset state store, new in 3.3)
and a running ``airflow triggerer``. On older Airflow this file defines no DAG and raises no
error, so one dags folder can serve both; use ``stripe_new_charges`` (a sensor) there instead.

Each charge arrives once: the trigger's cursor survives triggerer restarts. Its first poll starts
"now"; ``start_from=<epoch seconds>`` on the trigger starts earlier. Polling every 60 s is 1,440
API calls a day.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow import __version__ as airflow_version
from packaging.version import Version

if Version(airflow_version).release >= (3, 3):
    from airflow.sdk import DAG, Asset, AssetWatcher, task

    from airflow_provider_stripe.triggers.stripe import StripeNewChargeEventTrigger

    # [START howto_stripe_event_trigger]
    stripe_new_charges = Asset(
        name="stripe_new_charges",
        watchers=[
            AssetWatcher(
                name="stripe_new_charges_watcher",
                trigger=StripeNewChargeEventTrigger(
                    stripe_conn_id="stripe_default",
                    poll_interval=60,  # seconds between polls
                    # customer="cus_..." would watch one customer's charges only.
                ),
            )
        ],
    )

    with DAG(
        dag_id="stripe_event_driven",
        schedule=[stripe_new_charges],  # one run per event the watcher records
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["stripe", "example"],
        doc_md=__doc__,
    ) as dag:

        @task
        def book_new_charges(triggering_asset_events: Any = None) -> list[str]:
            """Book the charges of the events that started this run.

            Airflow passes the asset events in ``triggering_asset_events``; an event recorded by a
            trigger carries its payload in ``extra["payload"]``: here ``{"objects": [charges]}``.
            Replace the body with your own bookkeeping.
            """
            booked = []
            # Events queued while the previous run was busy come together: take them all.
            for event in triggering_asset_events[stripe_new_charges]:
                for charge in event.extra["payload"]["objects"]:  # oldest first
                    print(f"Booked {charge['id']}: {charge['amount'] / 100:.2f} {charge['currency'].upper()}")
                    booked.append(charge["id"])
            return booked

        book_new_charges()
    # [END howto_stripe_event_trigger]
