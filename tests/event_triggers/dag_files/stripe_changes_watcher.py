"""A DAG of the end-to-end tests: runs once per batch of new Stripe Events of two types (the change feed)."""

from __future__ import annotations

from airflow.sdk import DAG, Asset, AssetWatcher
from task_records import record_object_ids

from airflow_provider_stripe.triggers.stripe import StripeChangeFeedEventTrigger

stripe_changes = Asset(
    "stripe_changes",
    watchers=[
        AssetWatcher(
            name="stripe_changes",
            trigger=StripeChangeFeedEventTrigger(
                event_types=["customer.updated", "charge.refunded"], poll_interval=1.0
            ),
        )
    ],
)

with DAG(dag_id="stripe_changes_watcher", schedule=[stripe_changes], catchup=False):
    record_object_ids(stripe_changes)
