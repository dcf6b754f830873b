"""Nightly export: each day's Stripe charges, refunds and customers into a folder as JSON Lines.

**How it starts:** on a schedule, every night at midnight UTC, for the day that just ended. The
schedule is a *data-interval* timetable: each run covers ``data_interval_start`` to
``data_interval_end`` (one day), which is exactly what the export takes. On Airflow 3 a bare cron
string such as ``"@daily"`` means a trigger timetable whose runs have no interval: the export
refuses it (rather than exporting nothing) and says to use ``CronDataIntervalTimetable``.

**What it does:** one export per Stripe list, each writing
``<root>/<resource>/<day>/part-00000.jsonl.gz``... and then ``manifest.json`` (object counts,
sizes, sha256), and returning that manifest. Each waits (deferred, no worker slot held) until
10 minutes after midnight on Stripe's clock, so that objects Stripe lists a little late are
included. Re-running a day rewrites the same files; ``airflow dags backfill`` fills history. Each
export's folder is an outlet asset (a dataset on Airflow 2) that downstream DAGs can schedule on.

The root folder is ``$STRIPE_EXPORT_ROOT`` (a URL of Airflow's object storage, such as
``s3://aws_default@my-bucket/stripe``), by default ``file:///tmp/stripe-exports``.
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

EXPORT_ROOT = os.environ.get("STRIPE_EXPORT_ROOT", "file:///tmp/stripe-exports").rstrip("/")

# [START howto_stripe_export_nightly]
with DAG(
    dag_id="stripe_export_nightly",
    # Not "@daily": on Airflow 3 that is a trigger timetable, whose runs have an empty interval.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["stripe", "example", "export"],
    doc_md=__doc__,
) as dag:
    for resource in ("charges", "refunds", "customers"):
        StripeToObjectStorageOperator(
            task_id=f"export_{resource}",
            resource=resource,
            # One folder per day, named after the day the data is from.
            path=f"{EXPORT_ROOT}/{resource}/{{{{ data_interval_start | ds }}}}/",
            format="jsonl.gz",
            # Objects created before midnight but listed by Stripe up to 10 minutes later count.
            lookback=timedelta(minutes=10),
        )
# [END howto_stripe_export_nightly]
