"""The task of the end-to-end tests' DAGs: it writes the ids of the objects it was triggered with to
``$AIRFLOW_HOME/task_records/<run_id>.json``, so the test sees what the DAG itself received, not
only what the metadata DB holds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, task


def record_object_ids(asset: Asset) -> Any:
    """The task, in the DAG being defined: the ids in the payloads of ``asset``'s triggering events."""

    @task
    def record_objects(*, triggering_asset_events: Any = None, run_id: str | None = None) -> list[str]:
        object_ids = [
            obj["id"] for event in triggering_asset_events[asset] for obj in event.extra["payload"]["objects"]
        ]
        records = Path(os.environ["AIRFLOW_HOME"]) / "task_records"
        records.mkdir(exist_ok=True)
        (records / f"{run_id}.json").write_text(json.dumps(object_ids))
        return object_ids

    return record_objects()
