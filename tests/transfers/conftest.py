"""Exports in real DAG runs against the emulator: DAG files, objects created at chosen seconds, reading."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import load_dag, write_dag


@pytest.fixture
def stripe_env(stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> StripeEmulator:
    """The emulator as ``stripe_default``, with quick retries."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT",
        stripe_emulator.connection_json(extra={"backoff_initial": 0.01, "max_retries": 3}),
    )
    return stripe_emulator


def create_at(stripe: StripeEmulator, resource: str, created: float, count: int = 1) -> list[str]:
    """Create ``count`` customers, products or charges whose ``created`` is ``created`` (epoch seconds)."""
    bodies = {
        "customers": {"email": "export@example.com"},
        "products": {"name": "Export test"},
        "charges": {"amount": 500, "currency": "usd", "source": "tok_visa"},
    }
    stripe.clock.freeze(at=created)
    ids = []
    with requests.Session() as session:
        session.auth = (stripe.api_key, "")
        for _ in range(count):
            answer = session.post(f"{stripe.base_url}/v1/{resource}", data=bodies[resource], timeout=10)
            answer.raise_for_status()
            ids.append(answer.json()["id"])
    return ids


def export_dag(dag_id: str, schedule: str, **operator: Any) -> Any:
    """A DAG with one export task ``export``; ``schedule`` is Python source for the DAG's schedule."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in operator.items())
    path = write_dag(
        dag_id,
        f"""
        from datetime import timedelta

        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

        try:
            from airflow.sdk import CronDataIntervalTimetable, DeltaDataIntervalTimetable
        except ImportError:
            from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable

        with DAG(
            {dag_id!r},
            schedule={schedule},
            start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
            catchup=False,
        ):
            StripeToObjectStorageOperator(task_id="export", {arguments})
        """,
    )
    return load_dag(path, dag_id)


def read_lines(folder: Path) -> list[dict[str, Any]]:
    """Every object of a complete export folder, in part order, checked against its manifest."""
    manifest = json.loads((folder / "manifest.json").read_text())
    objects: list[dict[str, Any]] = []
    for part in manifest["parts"]:
        raw = (folder / part["name"]).read_bytes()
        assert len(raw) == part["bytes"]
        text = gzip.decompress(raw) if part["name"].endswith(".gz") else raw
        lines = [json.loads(line) for line in text.decode().splitlines()]
        assert len(lines) == part["objects"]
        objects.extend(lines)
    assert len(objects) == manifest["objects"]
    return objects


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {child.name: child.read_bytes() for child in sorted(folder.iterdir())}
