"""A current copy of Stripe in object storage: one snapshot, then every hour's changes.

**How it starts:** ``stripe_current_copy_snapshot`` once, by hand (``airflow dags trigger``), and
``stripe_current_copy`` every hour on a *data-interval* timetable, from the hour the snapshot
started in (its manifest's ``window.listed_from``) or earlier; overlapping is harmless.

**What it does:** the snapshot writes every customer, product, charge and refund Stripe holds to
``<root>/<resource>/snapshot/`` (``window="all"``). Each hourly run writes
``<root>/<resource>/changes/<hour>/``: every object created, updated or deleted in that hour, found
through Stripe Events, once, as Stripe holds it when the run reads it, and a deleted one as
``{"id": ..., "object": ..., "deleted": true}``. Loading the snapshot and then each hour's folder in
order (upsert by id, delete on a stub: ``docs/current-copy.md`` has the MERGE statements for
PostgreSQL, Snowflake and BigQuery) keeps a table equal to Stripe. Stripe keeps events for 30 days:
an hourly run older than that fails, and the way back is a new snapshot.

The root folder is ``$STRIPE_COPY_ROOT`` (a URL of Airflow's object storage, such as
``s3://aws_default@my-bucket/stripe-copy``), by default ``file:///tmp/stripe-copy``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, CronDataIntervalTimetable
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

COPY_ROOT = os.environ.get("STRIPE_COPY_ROOT", "file:///tmp/stripe-copy").rstrip("/")
RESOURCES = ("customers", "products", "charges", "refunds")

# [START howto_stripe_snapshot]
with DAG(
    dag_id="stripe_current_copy_snapshot",
    schedule=None,  # once, by hand; again whenever the copy must start over
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["stripe", "example", "export"],
    doc_md=__doc__,
):
    for resource in RESOURCES:
        StripeToObjectStorageOperator(
            task_id=f"snapshot_{resource}",
            resource=resource,
            path=f"{COPY_ROOT}/{resource}/snapshot/",
            window="all",  # every object the list holds now
        )
# [END howto_stripe_snapshot]

# [START howto_stripe_changes]
with DAG(
    dag_id="stripe_current_copy",
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["stripe", "example", "export"],
    doc_md=__doc__,
):
    for resource in RESOURCES:
        StripeToObjectStorageOperator(
            task_id=f"changes_{resource}",
            resource=resource,
            path=f"{COPY_ROOT}/{resource}/changes/{{{{ data_interval_start | ts_nodash }}}}/",
            capture="changes",  # created, updated or deleted in the hour, through Stripe Events
            window="data_interval",
            # Events created before the hour's end but listed up to 5 minutes later count.
            lookback=timedelta(minutes=5),
        )
# [END howto_stripe_changes]
