"""The new-charge sensor watches connected accounts: ``.expand(stripe_account=[...])``, a cursor per
map index, in poke and deferrable modes, over consecutive runs.

A ``Stripe-Account`` header makes a list call list that connected account's objects only
(https://docs.stripe.com/connect/authentication); the official SDK creates each account's charges
(``stripe_account`` in its request options).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe

from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.sensors.stripe import CURSOR_XCOM_KEY
from airflow_provider_stripe.testing import StripeEmulator
from tests.connect.conftest import ACCOUNT_A, ACCOUNT_B
from tests.dag_runs import RunResult, load_dag, run_dag, write_dag
from tests.sensors.test_sensor_runs import delivered
from tests.waiting import wait_for

DAY = timedelta(days=1)
FIRST_DAY = datetime(2026, 1, 1)
ACCOUNTS = (ACCOUNT_A, ACCOUNT_B)


def charge(client: stripe.StripeClient, account: str | None) -> str:
    options: Any = {"stripe_account": account} if account else {}
    params: Any = {"amount": 500, "currency": "usd", "source": "tok_visa"}
    return client.v1.charges.create(params=params, options=options).id


def mapped_charge_sensor_dag(dag_id: str, start: float, markers: Path, *, deferrable: bool) -> Any:
    """The sensor mapped over both accounts. Each index leaves a marker file when a poke found nothing
    (it is waiting) and when it resumes from its trigger (it did defer)."""
    path = write_dag(
        dag_id,
        f"""
        from pathlib import Path

        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

        MARKERS = Path({str(markers)!r})


        class Marked(StripeNewChargeSensor):
            def poke(self, context):
                found = super().poke(context)
                if not found:
                    (MARKERS / f"waiting-{{context['ti'].map_index}}").touch()
                return found

            def execute_complete(self, context, event):
                (MARKERS / f"resumed-{{context['ti'].map_index}}").touch()
                return super().execute_complete(context, event)


        with DAG({dag_id!r}, schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            Marked.partial(
                task_id="new", start_from={int(start)}, poke_interval=0.2, timeout=60, mode="poke",
                deferrable={deferrable},
            ).expand(stripe_account={list(ACCOUNTS)!r})
        """,
    )
    return load_dag(path, dag_id)


def run_creating_while_waiting(
    dag: Any, day: datetime, folder: Path, create: Callable[[int], list[str]]
) -> tuple[RunResult, dict[int, list[str]]]:
    """Run ``dag``; once index ``i`` has poked and found nothing, call ``create(i)``: it comes while
    the index waits (the next poke, or its trigger when deferrable)."""
    created: dict[int, list[str]] = {}

    def serve_waiting() -> bool:
        # Airflow runs the map indexes in no set order: serve whichever waits.
        for index in {0, 1} - created.keys():
            if (folder / f"waiting-{index}").exists():
                created[index] = create(index)
        return len(created) == 2

    def create_when_waiting() -> None:
        wait_for("both map indexes to wait", serve_waiting)

    creator = threading.Thread(target=create_when_waiting)
    creator.start()
    try:
        result = run_dag(dag, day)
    finally:
        creator.join()
    return result, created


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_each_index_delivers_its_accounts_charges_once_across_runs(
    stripe_env: StripeEmulator, client: stripe.StripeClient, deferrable: bool, tmp_path: Path
) -> None:
    dag_id = f"connect_charges_{'deferrable' if deferrable else 'poke'}"
    start = stripe_env.clock.now()
    stripe_env.clock.advance(1)
    dag = mapped_charge_sensor_dag(dag_id, start, tmp_path, deferrable=deferrable)

    # Run 1: charges already waiting in each account (and one on the platform, which neither sees).
    before = {0: [charge(client, ACCOUNT_A), charge(client, ACCOUNT_A)], 1: [charge(client, ACCOUNT_B)]}
    charge(client, None)
    first = run_dag(dag, FIRST_DAY)
    assert {i: delivered(first, map_index=i) for i in (0, 1)} == before

    # Run 2: nothing new at first; each index's charges come while it waits (on the triggerer when
    # deferrable), in the same second as run 1's last ones.
    for marker in tmp_path.iterdir():
        marker.unlink()
    second, created = run_creating_while_waiting(
        dag, FIRST_DAY + DAY, tmp_path, lambda i: [charge(client, ACCOUNTS[i])]
    )
    assert {i: delivered(second, map_index=i) for i in (0, 1)} == created
    resumed = {i for i in (0, 1) if (tmp_path / f"resumed-{i}").exists()}
    assert resumed == ({0, 1} if deferrable else set())

    # Each index stored its own cursor, holding its own account's charges only.
    for i in (0, 1):
        cursor = Cursor.from_json(second.xcom("new", CURSOR_XCOM_KEY, map_index=i))
        assert set(cursor.delivered) == {*before[i], *created[i]}
