"""Upgrading from release one: the cursor it left in XCom is read as it is (no re-delivery, no skip)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import load_dag, run_dag, write_dag
from tests.sensors.test_sensor_runs import create_charges, delivered

LOOKBACK = 300


def test_a_cursor_stored_by_release_one_is_read_after_the_upgrade(stripe_env: StripeEmulator) -> None:
    """Run 1 stores, through Airflow's XCom, the exact string release one stored after delivering
    charges a and b; run 2 runs this release's sensor. A charge made in b's second after release one
    looked (d), and one made later (c), come once, oldest first; a and b do not come again."""
    start = stripe_env.clock.now()
    stripe_env.clock.advance(1)
    (a,) = create_charges(stripe_env, 1)
    stripe_env.clock.advance(1)
    (b,) = create_charges(stripe_env, 1)
    watermark = stripe_env.clock.now()
    stored = json.dumps(
        {
            "version": 1,
            "watermark": watermark,
            "floor": max(start, watermark - LOOKBACK),
            "delivered": {str(watermark - 1): [a], str(watermark): [b]},
        },
        separators=(",", ":"),
    )
    (d,) = create_charges(stripe_env, 1)
    stripe_env.clock.advance(1)
    (c,) = create_charges(stripe_env, 1)

    path = write_dag(
        "charges_upgrade",
        f"""
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor


        class ReleaseOneThenThis(StripeNewChargeSensor):
            \"\"\"Given a cursor in the run's conf, stores it as release one did, and stops there.\"\"\"

            def execute(self, context):
                stored = (context["dag_run"].conf or {{}}).get("release_one_cursor")
                if stored:
                    context["ti"].xcom_push(key="stripe_cursor", value=stored)
                    return []
                return super().execute(context)


        with DAG("charges_upgrade", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            ReleaseOneThenThis(
                task_id="new", start_from={start}, lookback={LOOKBACK}, poke_interval=0.1, timeout=5,
                mode="poke",
            )
        """,
    )
    dag = load_dag(path, "charges_upgrade")
    first = run_dag(dag, datetime(2026, 2, 1), run_conf={"release_one_cursor": stored})
    kept = first.xcom("new", "stripe_cursor")  # Airflow 3 hands a JSON string back decoded
    assert (json.loads(kept) if isinstance(kept, str) else kept) == json.loads(stored)
    assert delivered(run_dag(dag, datetime(2026, 2, 1) + timedelta(days=1))) == [d, c]
