"""Mirror: ``customers`` and ``charges`` tables in PostgreSQL kept current, for the platform and every
connected account.

**How it starts:** every hour, for the hour that just ended (a data-interval timetable: each run
covers ``data_interval_start`` to ``data_interval_end``), one run at a time.

**What it does:** it lists the platform's connected accounts, then, for the platform and each
account, and for each table:

- the first time it sees the account (no load of it recorded), a **snapshot**: every object the
  list holds now (``window="all"``), which replaces the account's rows;
- afterwards, the hour's **changes** (``capture="changes"``): each object created, updated or
  deleted in the hour, once, as Stripe holds it now; a deleted object comes as Stripe's stub
  ``{"id", "object", "deleted": true}``.

Each export writes a folder (part files, then ``manifest.json``); the folder is then applied to
PostgreSQL in one transaction with the postgres provider's ``PostgresHook``: an upsert by
``(account, id)`` of the object into a ``jsonb`` column, a delete for a stub, and a row in
``stripe_mirror_loads`` saying what was applied. A connected account added later gets its own
snapshot on the next run. Applying a folder again changes nothing, so a cleared run is safe; a run
refuses to apply an hour of changes after a gap (an hour that failed and was not re-run), since the
tables would miss that hour's changes, and says which run to clear.

``account`` is ``''`` for the platform's own objects. Needs ``apache-airflow-providers-postgres``
and a connection ``postgres_default`` (``$STRIPE_MIRROR_POSTGRES_CONN_ID``). Folders go under
``$STRIPE_MIRROR_ROOT`` (a URL of Airflow's object storage), by default ``file:///tmp/stripe-mirror``.
"""

from __future__ import annotations

import json
import os
from contextlib import closing
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException, TaskGroup, get_current_context, task

try:  # Airflow 3
    from airflow.sdk import DAG, CronDataIntervalTimetable
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_stripe.operators.stripe import StripeListConnectedAccountsOperator
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

MIRROR_ROOT = os.environ.get("STRIPE_MIRROR_ROOT", "file:///tmp/stripe-mirror").rstrip("/")
POSTGRES_CONN_ID = os.environ.get("STRIPE_MIRROR_POSTGRES_CONN_ID", "postgres_default")
TABLES = {"customers": "customers", "charges": "charges"}  # Stripe list -> table
PLATFORM = ""  # the account column of the platform's own objects

# [START howto_stripe_mirror_postgres_sql]
CREATE_TABLES = [
    *(
        f"""CREATE TABLE IF NOT EXISTS {table} (
            account text NOT NULL,
            id text NOT NULL,
            object jsonb NOT NULL,
            PRIMARY KEY (account, id))"""
        for table in TABLES.values()
    ),
    """CREATE TABLE IF NOT EXISTS stripe_mirror_loads (
        table_name text NOT NULL,
        account text NOT NULL,
        kind text NOT NULL,
        window_end timestamptz NOT NULL,
        objects integer NOT NULL,
        folder text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())""",
]
UPSERT = """INSERT INTO {table} (account, id, object) VALUES (%s, %s, %s::jsonb)
    ON CONFLICT (account, id) DO UPDATE SET object = excluded.object"""
DELETE = "DELETE FROM {table} WHERE account = %s AND id = %s"
# [END howto_stripe_mirror_postgres_sql]


def _postgres() -> Any:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    return PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)


@task
def create_tables() -> None:
    _postgres().run(CREATE_TABLES)


@task
def plan(resource: str, accounts: list[str]) -> list[dict[str, Any]]:
    """One export per account (the platform first): a snapshot for an account never loaded, else
    the hour's changes, after checking that no hour before it is missing."""
    context = get_current_context()
    start, end = context["data_interval_start"], context["data_interval_end"]
    table = TABLES[resource]
    loaded = dict(
        _postgres().get_records(
            "SELECT account, max(window_end) FROM stripe_mirror_loads WHERE table_name = %s GROUP BY account",
            parameters=(table,),
        )
    )
    exports = []
    for account in [PLATFORM, *accounts]:
        folder = f"{MIRROR_ROOT}/{resource}/{account or 'platform'}/{end:%Y%m%dT%H%M%S}"
        if account not in loaded:
            exports.append(
                {
                    "stripe_account": account,
                    "window": "all",
                    "capture": "created",
                    "path": f"{folder}-snapshot/",
                }
            )
            continue
        if loaded[account] < start:
            raise AirflowFailException(
                f"{table} of account {account or 'platform'!r} were last brought up to {loaded[account]}, "
                f"and this run's changes start at {start}: clear the runs in between first."
            )
        exports.append(
            {"stripe_account": account, "window": "data_interval", "capture": "changes", "path": f"{folder}/"}
        )
    return exports


# [START howto_stripe_mirror_postgres_apply]
@task
def apply(resource: str, export: dict[str, Any]) -> int:
    """Apply one export folder in one transaction; returns how many objects it held."""
    from airflow_provider_stripe.transfers.export_folder import ExportFolder

    folder = ExportFolder.open(export["path"])
    table, account = TABLES[resource], folder.account or PLATFORM
    window = folder.manifest["window"]
    window_end = window["listed_from"] if folder.is_snapshot else window["created_lt"]
    with closing(_postgres().get_conn()) as connection, connection, connection.cursor() as cursor:
        if folder.is_snapshot:  # every object the list holds now: the account's rows are these
            cursor.execute(f"DELETE FROM {table} WHERE account = %s", (account,))
        for obj in folder.objects():
            if obj.get("deleted"):
                cursor.execute(DELETE.format(table=table), (account, obj["id"]))
            else:
                cursor.execute(UPSERT.format(table=table), (account, obj["id"], json.dumps(obj)))
        cursor.execute(
            "INSERT INTO stripe_mirror_loads (table_name, account, kind, window_end, objects, folder)"
            " VALUES (%s, %s, %s, to_timestamp(%s), %s, %s)",
            (table, account, window["kind"], window_end, folder.manifest["objects"], export["path"]),
        )
    return int(folder.manifest["objects"])


# [END howto_stripe_mirror_postgres_apply]


# [START howto_stripe_mirror_postgres]
with DAG(
    dag_id="stripe_mirror_postgres",
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # hours are applied in order
    tags=["stripe", "example", "export", "postgres"],
    doc_md=__doc__,
) as dag:
    accounts = StripeListConnectedAccountsOperator(task_id="connected_accounts")
    tables = create_tables()
    for resource in TABLES:
        with TaskGroup(resource):
            exports = plan(resource, accounts.output)
            tables >> exports
            exported = StripeToObjectStorageOperator.partial(
                task_id="export", resource=resource
            ).expand_kwargs(exports)
            exported >> apply.partial(resource=resource).expand(export=exports)
# [END howto_stripe_mirror_postgres]
