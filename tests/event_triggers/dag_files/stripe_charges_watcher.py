"""The DAG of the end-to-end test: runs once per batch of new Stripe charges.

Its one task writes the charge ids it was triggered with to ``$AIRFLOW_HOME/task_records/<run_id>.json``,
so the test sees what the DAG itself received, not only what the metadata DB holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_stripe.triggers.stripe import StripeNewChargeEventTrigger

stripe_charges = Asset(
    "stripe_charges",
    watchers=[
        AssetWatcher(name="new_stripe_charges", trigger=StripeNewChargeEventTrigger(poll_interval=1.0))
    ],
)

with DAG(dag_id="stripe_charges_watcher", schedule=[stripe_charges], catchup=False):

    @task
    def record_charges(*, triggering_asset_events: Any = None, run_id: str | None = None) -> list[str]:
        charge_ids = [
            charge["id"]
            for event in triggering_asset_events[stripe_charges]
            for charge in event.extra["payload"]["objects"]
        ]
        records = Path(os.environ["AIRFLOW_HOME"]) / "task_records"
        records.mkdir(exist_ok=True)
        (records / f"{run_id}.json").write_text(json.dumps(charge_ids))
        return charge_ids

    record_charges()
