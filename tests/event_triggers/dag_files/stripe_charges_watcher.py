"""A DAG of the end-to-end tests: runs once per batch of new Stripe charges."""

from __future__ import annotations

from airflow.sdk import DAG, Asset, AssetWatcher
from task_records import record_object_ids

from airflow_provider_stripe.triggers.stripe import StripeNewChargeEventTrigger

stripe_charges = Asset(
    "stripe_charges",
    watchers=[
        AssetWatcher(name="new_stripe_charges", trigger=StripeNewChargeEventTrigger(poll_interval=1.0))
    ],
)

with DAG(dag_id="stripe_charges_watcher", schedule=[stripe_charges], catchup=False):
    record_object_ids(stripe_charges)
