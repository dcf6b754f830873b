"""example_dags/stripe_refund_events.py, run end to end (dag.test) against the emulator.

Stripe behaviour: a refund, full or partial, emits ``charge.refunded`` with the charge as
``data.object`` and its old ``amount_refunded`` in ``data.previous_attributes`` (event types,
https://docs.stripe.com/api/events/types).
"""

from __future__ import annotations

import shutil
from datetime import datetime

import stripe

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import DAGS_FOLDER, load_dag, run_dag
from tests.example_dags.flows import EXAMPLE_DAGS


def test_each_refund_event_is_booked_with_what_it_refunded(
    stripe_emulator: StripeEmulator, stripe_connection: str, client: stripe.StripeClient
) -> None:
    start = stripe_emulator.clock.now()
    charge = client.v1.charges.create(params={"amount": 5000, "currency": "eur", "source": "tok_visa"})
    client.v1.refunds.create(params={"charge": charge.id, "amount": 1500})
    client.v1.refunds.create(params={"charge": charge.id})
    path = shutil.copy(EXAMPLE_DAGS / "stripe_refund_events.py", DAGS_FOLDER)
    dag = load_dag(path, "stripe_refund_events")
    result = run_dag(dag, datetime(2026, 2, 1), run_conf={"start_from": start})
    assert result.state == "success"
    booked = [result.xcom("book_refund", map_index=i) for i in range(2)]
    assert [(line["charge"], line["refunded"], line["currency"]) for line in booked] == [
        (charge.id, 1500, "eur"),
        (charge.id, 3500, "eur"),
    ]
