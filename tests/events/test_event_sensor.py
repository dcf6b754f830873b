"""StripeNewEventSensor in real DAG runs (dag.test) against the emulator, created through stripe-python.

Stripe behaviour followed: "List all events" (``type`` with ``*`` wildcards, ``types`` up to 20, newest
first, 30 days of history), "The Event object" (``data.object`` is a snapshot), "Retrieve a customer"
(a deleted customer comes back as ``{"id", "object", "deleted": true}``) and "Connect: making API calls
for connected accounts" (the ``Stripe-Account`` header), all at https://docs.stripe.com/api.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import stripe

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.sensors.stripe import CURSOR_XCOM_KEY, StripeNewEventSensor
from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import RunResult, load_dag, run_dag, write_dag
from tests.reliability.test_sensor_faults import sensor_dag

DAY = timedelta(days=1)
FIRST_DAY = datetime(2026, 1, 1)


def event_sensor_dag(dag_id: str, start_from: int, **options: Any) -> Any:
    """One StripeNewEventSensor (task ``new``) in the reliability harness's DAG file (retries: 2)."""
    settings = {"poke_interval": 0.1, "timeout": 5, "mode": "poke", **options}
    return sensor_dag(dag_id, "StripeNewEventSensor", start_from, **settings)


def delivered(result: RunResult, map_index: int = -1) -> list[dict[str, Any]]:
    assert result.state_of("new", map_index) == "success", result.task_states
    events: list[dict[str, Any]] = result.xcom("new", map_index=map_index)
    return events


def _charge(client: stripe.StripeClient) -> stripe.Charge:
    return client.v1.charges.create(params={"amount": 1000, "currency": "usd", "source": "tok_visa"})


@pytest.mark.usefixtures("stripe_connection")
def test_consecutive_runs_deliver_each_event_of_the_types_once(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    dag = event_sensor_dag("events_types", start, event_types=["charge.refunded", "customer.updated"])
    customer = client.v1.customers.create()
    client.v1.customers.update(customer.id, params={"name": "Ada"})
    charge = _charge(client)
    client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
    first = delivered(run_dag(dag, FIRST_DAY))
    assert [event["type"] for event in first] == ["customer.updated", "charge.refunded"]
    assert first[1]["data"]["previous_attributes"] == {"amount_refunded": 0}

    client.v1.refunds.create(params={"charge": charge.id, "amount": 200})
    second = run_dag(dag, FIRST_DAY + DAY)
    assert [event["data"]["object"]["amount_refunded"] for event in delivered(second)] == [300]
    assert Cursor.from_json(second.xcom("new", CURSOR_XCOM_KEY)).watermark == start
    # Nothing new: the next run waits and times out, delivering nothing again.
    assert run_dag(dag, FIRST_DAY + 2 * DAY).state_of("new") == "failed"


@pytest.mark.usefixtures("stripe_connection")
def test_a_wildcard_type_in_deferrable_mode(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    start = stripe_emulator.clock.now()
    dag = event_sensor_dag("events_wildcard", start, event_types="charge.*", deferrable=True)
    charge = _charge(client)
    client.v1.customers.create()
    client.v1.refunds.create(params={"charge": charge.id})
    events = delivered(run_dag(dag, FIRST_DAY))
    assert [event["type"] for event in events] == ["charge.succeeded", "charge.refunded"]
    requests = [r for r in stripe_emulator.requests if r.path == "/v1/events"]
    assert all(r.query.get("type") == "charge.*" for r in requests)


@pytest.mark.usefixtures("stripe_connection")
def test_refetch_returns_the_current_object_and_a_tombstone_for_a_deleted_customer(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    kept = client.v1.customers.create(params={"name": "first"})
    gone = client.v1.customers.create(params={"name": "doomed"})
    dag = event_sensor_dag("events_refetch", start, event_types=["customer.created"], refetch=True)
    client.v1.customers.update(kept.id, params={"name": "renamed"})
    client.v1.customers.delete(gone.id)
    stripe_emulator.clear_log()
    events = delivered(run_dag(dag, FIRST_DAY))
    assert [event["data"]["object"] for event in events] == [
        client.v1.customers.retrieve(kept.id).to_dict(),
        {"id": gone.id, "object": "customer", "deleted": True},
    ]
    assert events[0]["data"]["object"]["name"] == "renamed"
    gets = [
        r.path for r in stripe_emulator.requests if r.method == "GET" and r.path.startswith("/v1/customers")
    ]
    assert sorted(gets) == sorted(
        [f"/v1/customers/{kept.id}", f"/v1/customers/{gone.id}", f"/v1/customers/{kept.id}"]
    )


@pytest.mark.usefixtures("stripe_connection")
def test_refetch_of_a_deleted_product_is_a_tombstone(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    """Stripe answers 404 for a deleted product ("Delete a product"); refetch turns it into the tombstone."""
    start = stripe_emulator.clock.now()
    product = client.v1.products.create(params={"name": "Plan"})
    client.v1.products.delete(product.id)
    dag = event_sensor_dag("events_refetch_product", start, event_types=["product.created"], refetch=True)
    (event,) = delivered(run_dag(dag, FIRST_DAY))
    assert event["data"]["object"] == {"id": product.id, "object": "product", "deleted": True}


@pytest.mark.usefixtures("stripe_connection")
def test_a_cursor_older_than_stripes_30_days_fails_naming_the_gap(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    """Stripe keeps events 30 days ("List all events"); the gap must fail the task, not be skipped."""
    stripe_emulator.clock.freeze()
    start = stripe_emulator.clock.now()
    stripe_emulator.clock.advance(31 * 24 * 3600)  # Stripe's clock, not the worker's, decides
    client.v1.customers.create()
    sensor = StripeNewEventSensor(task_id="t", event_types=["customer.created"], start_from=start)
    with pytest.raises(StripeValidationError, match="30 days") as raised:
        sensor._poll(Cursor.starting_at(start))
    message = str(raised.value)
    assert raised.value.param == "stripe_cursor"
    assert "StripeToObjectStorageOperator" in message
    assert "data_interval" in message
    assert datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") in message

    dag = event_sensor_dag("events_expired", start, event_types=["customer.created"])
    result = run_dag(dag, FIRST_DAY)
    assert result.state_of("new") == "failed"
    assert result.tries[("new", -1)] == 1  # a gap is not fixed by retrying
    assert result.xcom("new") is None


@pytest.mark.usefixtures("stripe_connection")
def test_each_connected_account_has_its_own_feed_and_cursor(
    stripe_emulator: StripeEmulator, client: stripe.StripeClient
) -> None:
    """One connection, many connected accounts: ``.expand(stripe_account=...)``, a cursor per map index."""
    start = stripe_emulator.clock.now()
    path = write_dag(
        "events_connect",
        f"""
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewEventSensor

        with DAG("events_connect", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            StripeNewEventSensor.partial(
                task_id="new", event_types=["customer.created"], start_from={start}, poke_interval=0.1,
                timeout=5, mode="poke",
            ).expand(stripe_account=["acct_1One", "acct_1Two"])
        """,
    )
    dag = load_dag(path, "events_connect")
    one = client.v1.customers.create(options={"stripe_account": "acct_1One"})
    two = client.v1.customers.create(options={"stripe_account": "acct_1Two"})
    client.v1.customers.create()  # the platform's own: neither account sees it
    first = run_dag(dag, FIRST_DAY)
    assert [e["data"]["object"]["id"] for e in delivered(first, 0)] == [one.id]
    assert [e["data"]["object"]["id"] for e in delivered(first, 1)] == [two.id]
    newer = client.v1.customers.create(options={"stripe_account": "acct_1Two"})
    client.v1.customers.create(options={"stripe_account": "acct_1One"})
    second = run_dag(dag, FIRST_DAY + DAY)
    assert [e["data"]["object"]["id"] for e in delivered(second, 1)] == [newer.id]
    assert len(delivered(second, 0)) == 1


@pytest.mark.parametrize(
    ("event_types", "message"),
    [
        ([f"charge.type_{i}" for i in range(21)], "at most 20"),
        (["charge.succeeded", "charge.*"], "wildcard works only with a single type"),
        (["Charge Succeeded"], "not a Stripe event type"),
        ([], "1 to 20"),
        ([42], "1 to 20"),
    ],
)
def test_bad_event_types_fail_at_parse_time_with_zero_requests(
    stripe_emulator: StripeEmulator, event_types: list[object], message: str
) -> None:
    with pytest.raises(StripeValidationError, match=message) as raised:
        StripeNewEventSensor(task_id="t", event_types=event_types)  # type: ignore[arg-type]
    assert raised.value.param == "event_types"
    assert stripe_emulator.requests == []


def test_templated_event_types_wait_until_rendered() -> None:
    sensor = StripeNewEventSensor(
        task_id="t", event_types="{{ params.types }}", stripe_account="{{ params.acct }}"
    )
    assert set(sensor.template_fields) >= {"event_types", "stripe_account", "start_from"}
