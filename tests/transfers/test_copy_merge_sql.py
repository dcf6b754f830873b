"""The PostgreSQL statements of docs/current-copy.md, run as printed on a real PostgreSQL 15, apply a
snapshot and change folders into tables equal to what the official stripe SDK lists.

The folders come from the operator run directly over two adjacent intervals of a seeded workload (the
same export in DAG runs is tested in test_export_changes.py). Both variants of the guide are applied,
``INSERT ... ON CONFLICT`` and ``MERGE``, each folder twice (a re-applied folder changes nothing).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.deployment.services import PostgresServer, missing_binaries
from tests.transfers.copies import Workload, as_json, stripe_holds

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "current-copy.md"
RESOURCES = ("customers", "products", "charges", "refunds")
HOUR = 3600

pytestmark = pytest.mark.skipif(bool(missing_binaries()), reason=f"needs {missing_binaries()}")


def postgres_statements() -> list[str]:
    """The guide's PostgreSQL blocks: set-up with COPY, ``INSERT ... ON CONFLICT``, ``MERGE``."""
    section = GUIDE.read_text().split("### PostgreSQL", 1)[1].split("### ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(blocks) == 3, blocks
    return blocks


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def test_the_guides_postgresql_statements_apply_folders_into_a_copy_equal_to_stripe(
    stripe_connection: str, stripe_emulator: StripeEmulator, postgres: PostgresServer, tmp_path: Path
) -> None:
    import psycopg2

    workload = Workload(stripe_emulator, random.Random(11))
    start = int(datetime.now(timezone.utc).timestamp()) // HOUR * HOUR - 3 * HOUR
    workload.at(start - 60)
    for _ in range(25):
        workload.random_change()
    workload.at(start)
    folders: dict[str, list[Path]] = {resource: [] for resource in RESOURCES}
    for resource in RESOURCES:
        folder = tmp_path / resource / "snapshot"
        StripeToObjectStorageOperator(
            task_id="s", resource=resource, path=f"file://{folder}/", window="all", format="jsonl.gz"
        ).execute({})
        folders[resource].append(folder)
    for interval in range(2):
        begin = start + interval * HOUR
        workload.interval(begin, begin + HOUR)
        workload.at(begin + HOUR)
        context: Any = {
            "data_interval_start": datetime.fromtimestamp(begin, timezone.utc),
            "data_interval_end": datetime.fromtimestamp(begin + HOUR, timezone.utc),
        }
        for resource in RESOURCES:
            folder = tmp_path / resource / f"changes-{interval}"
            StripeToObjectStorageOperator(
                task_id="c",
                resource=resource,
                path=f"file://{folder}/",
                capture="changes",
                lookback=0,
                format="jsonl.gz",
            ).execute(context)
            folders[resource].append(folder)

    setup, on_conflict, merge = postgres_statements()
    create_table, create_rows, copy_rows = (s.strip() for s in setup.split(";\n") if s.strip())
    connection = psycopg2.connect(host="127.0.0.1", port=postgres.port, user=postgres.user, dbname="airflow")
    connection.autocommit = True
    try:
        cursor = connection.cursor()
        for resource in RESOURCES:
            for table, statement in {
                f"{resource}_upserted": on_conflict,
                f"{resource}_merged": merge,
            }.items():
                cursor.execute(create_table.replace("stripe_customers", table))
                for folder in folders[resource]:
                    for _ in range(2):  # applying a folder again changes nothing
                        cursor.execute("DROP TABLE IF EXISTS stripe_rows")
                        cursor.execute(create_rows)
                        for part in json.loads((folder / "manifest.json").read_text())["parts"]:
                            with gzip.open(folder / part["name"], "rb") as lines:
                                cursor.copy_expert(copy_rows, lines)
                        cursor.execute(statement.replace("stripe_customers", table))
                cursor.execute(f"SELECT id, data FROM {table}")
                copied = dict(cursor.fetchall())
                assert as_json(copied) == as_json(stripe_holds(stripe_emulator, resource)), table
    finally:
        connection.close()
