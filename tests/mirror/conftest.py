"""The mirror DAG's services: a throw-away PostgreSQL cluster (the deployment tests' own) for the
module, the emulator as ``stripe_default`` (frozen clock), and the DAG's connections and folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deployment.services import PostgresServer
from tests.sensors.conftest import stripe_env  # noqa: F401  (a fixture, used by name)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture
def mirror(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostgresServer]:
    """The DAG's connections and folder; empty tables before and after."""
    connection = {"conn_type": "postgres", "host": "127.0.0.1", "port": postgres.port}
    monkeypatch.setenv(
        "AIRFLOW_CONN_POSTGRES_DEFAULT",
        json.dumps({**connection, "login": postgres.user, "schema": postgres.database}),
    )
    monkeypatch.setenv("STRIPE_MIRROR_ROOT", f"file://{tmp_path}/")
    drop = "DROP TABLE IF EXISTS customers, charges, stripe_mirror_loads"
    query(postgres, drop)
    yield postgres
    query(postgres, drop)


def query(postgres: PostgresServer, sql: str) -> list[tuple[Any, ...]]:
    import psycopg2

    with (
        psycopg2.connect(
            host="127.0.0.1", port=postgres.port, user=postgres.user, dbname=postgres.database
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
        rows: list[tuple[Any, ...]] = cursor.fetchall() if cursor.description else []
    connection.close()
    return rows
