"""Deferrable sensors: TaskDeferred -> the real trigger on an event loop -> execute_complete."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_stripe.exceptions import StripeAuthenticationError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.sensors.stripe import (
    CURSOR_XCOM_KEY,
    StripeNewChargeSensor,
    StripeNewRefundSensor,
)
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.triggers.stripe import StripeNewObjectsTrigger
from tests.dag_runs import load_dag, run_dag, write_dag
from tests.sensors.test_sensor_runs import create_charges, delivered
from tests.waiting import wait_for


@dataclass
class TaskInstanceStandIn:
    """The two XCom calls a sensor makes, recorded (the real ones are exercised through dag.test)."""

    prior_cursor: str | None = None
    map_index: int = -1
    task_id: str = "new"
    pushed: dict[str, Any] = field(default_factory=dict)
    pulls: list[dict[str, Any]] = field(default_factory=list)

    def xcom_pull(self, **kwargs: Any) -> str | None:
        self.pulls.append(kwargs)
        return self.prior_cursor

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context_for(ti: TaskInstanceStandIn) -> dict[str, Any]:
    return {"ti": ti, "dag_run": None}


def first_event(trigger: StripeNewObjectsTrigger) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first())


def test_defers_then_trigger_finds_then_execute_complete_delivers(stripe_env: StripeEmulator) -> None:
    start = int(stripe_env.clock.now())
    sensor = StripeNewChargeSensor(task_id="new", start_from=start, deferrable=True, poke_interval=0.2)
    ti = TaskInstanceStandIn()
    stripe_env.clear_log()
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context_for(ti))
    assert stripe_env.count() == 1  # the one synchronous poke found nothing
    assert ti.pulls == [
        {"task_ids": "new", "key": CURSOR_XCOM_KEY, "include_prior_dates": True, "map_indexes": -1}
    ]
    trigger = deferred.value.trigger
    assert isinstance(trigger, StripeNewObjectsTrigger)
    assert deferred.value.method_name == "execute_complete"
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_stripe.triggers.stripe.StripeNewObjectsTrigger"
    assert stripe_env.api_key not in repr(kwargs)  # the key never travels with the trigger

    def create_later() -> None:
        wait_for("the trigger's first poll", lambda: stripe_env.count("GET", "/v1/charges") >= 2)
        stripe_env.clock.advance(1)
        # Hidden until the clock moves on, so that a poll between two creations (a loaded machine
        # is slower than the 0.2 s poll interval) cannot split them over two events.
        stripe_env.visibility_delay = 1
        made = create_charges(stripe_env, 3)
        stripe_env.visibility_delay = 0
        created.extend(made)
        stripe_env.clock.advance(1)

    created: list[str] = []
    worker = threading.Thread(target=create_later)
    worker.start()
    event = first_event(StripeNewObjectsTrigger(**kwargs))  # rebuilt from its serialized form
    worker.join()
    assert event["status"] == "success"
    assert [o["id"] for o in event["objects"]] == created
    objects = sensor.execute_complete(context_for(ti), event)
    assert [o["id"] for o in objects] == created
    assert Cursor.from_json(ti.pushed[CURSOR_XCOM_KEY]).delivered.keys() == set(created)


def test_deferrable_returns_at_once_when_the_first_poke_finds_objects(stripe_env: StripeEmulator) -> None:
    start = int(stripe_env.clock.now())
    stripe_env.clock.advance(1)
    created = create_charges(stripe_env, 2)
    sensor = StripeNewChargeSensor(task_id="new", start_from=start, deferrable=True)
    ti = TaskInstanceStandIn()
    assert [o["id"] for o in sensor.execute(context_for(ti))] == created
    assert CURSOR_XCOM_KEY in ti.pushed


def test_idle_poke_is_one_request(stripe_env: StripeEmulator) -> None:
    sensor = StripeNewRefundSensor(task_id="new", start_from=int(stripe_env.clock.now()))
    stripe_env.clear_log()
    assert sensor.poke(context_for(TaskInstanceStandIn())) is False
    assert stripe_env.count() == 1
    assert stripe_env.requests[0].path == "/v1/refunds"


def test_trigger_polls_through_transient_errors(stripe_env: StripeEmulator) -> None:
    start = int(stripe_env.clock.now())
    stripe_env.clock.advance(1)
    created = create_charges(stripe_env, 1)
    stripe_env.fail_next(4, status=500)  # more than the hook's 3 retries: one poll fails
    trigger = StripeNewObjectsTrigger(
        path="/v1/charges", cursor=Cursor.starting_at(start).to_json(), poll_interval=0.1
    )
    event = first_event(trigger)
    assert [o["id"] for o in event["objects"]] == created


def test_trigger_reports_a_bad_key_and_execute_complete_raises_it(
    stripe_env: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT", stripe_env.connection_json("sk_test_unknownkey0000000000")
    )
    trigger = StripeNewObjectsTrigger(
        path="/v1/charges", cursor=Cursor.starting_at(0).to_json(), poll_interval=0.1
    )
    event = first_event(trigger)
    assert event["status"] == "error"
    assert event["error_class"] == "StripeAuthenticationError"
    sensor = StripeNewChargeSensor(task_id="new", deferrable=True)
    with pytest.raises(StripeAuthenticationError, match="Invalid API Key"):
        sensor.execute_complete(context_for(TaskInstanceStandIn()), event)


def test_deferrable_sensor_end_to_end_in_dag_test(stripe_env: StripeEmulator) -> None:
    start = int(stripe_env.clock.now())
    path = write_dag(
        "charges_deferrable",
        f"""
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

        with DAG("charges_deferrable", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            StripeNewChargeSensor(
                task_id="new", start_from={start}, deferrable=True, poke_interval=0.2, timeout=30
            )
        """,
    )
    dag = load_dag(path, "charges_deferrable")
    created: list[str] = []

    polls_before = stripe_env.count("GET", "/v1/charges")

    def create_later() -> None:
        # After the task's own poke and a poll of its trigger: both found nothing.
        wait_for(
            "the trigger's first poll", lambda: stripe_env.count("GET", "/v1/charges") >= polls_before + 2
        )
        stripe_env.clock.advance(1)
        created.extend(create_charges(stripe_env, 2))

    worker = threading.Thread(target=create_later)
    worker.start()
    result = run_dag(dag, datetime(2026, 5, 1, tzinfo=timezone.utc))
    worker.join()
    assert delivered(result) == created
    assert Cursor.from_json(result.xcom("new", CURSOR_XCOM_KEY)).watermark == int(stripe_env.clock.now())


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_blank_start_from_means_now(blank: str | None) -> None:
    # An empty template renders to "": like the operators, the sensor takes it as "not given".
    sensor = StripeNewChargeSensor(task_id="new", start_from=blank)
    before = int(time.time())
    cursor = sensor.cursor(context_for(TaskInstanceStandIn()))
    assert before <= cursor.watermark <= int(time.time())
    assert cursor.floor == cursor.watermark


def test_at_the_sensors_timeout_the_trigger_hands_back_how_far_it_looked(stripe_env: StripeEmulator) -> None:
    """Instead of being cancelled by Airflow's deferral timeout (and its progress with it), the
    trigger stops at the sensor's timeout with its cursor; execute_complete saves it and times out."""
    from airflow.providers.common.compat.sdk import AirflowSensorTimeout

    start = int(stripe_env.clock.now())
    stripe_env.clock.advance(1)
    settled = create_charges(stripe_env, 2)
    old = Cursor.starting_at(start).after(
        [{"id": obj_id, "created": start + 1} for obj_id in settled], floor=start, walk_from=None
    )
    stripe_env.clock.advance(600)  # the charges are older than the lookback: the floor passes them
    sensor = StripeNewChargeSensor(task_id="new", start_from=start, deferrable=True, timeout=0.3)
    ti = TaskInstanceStandIn(prior_cursor=old.to_json())
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context_for(ti))
    assert deferred.value.timeout is not None
    assert deferred.value.timeout.total_seconds() > 0.3
    _, kwargs = deferred.value.trigger.serialize()
    assert 0 < kwargs["end_at"] - time.time() <= 0.3

    stripe_env.clear_log()
    event = first_event(StripeNewObjectsTrigger(**{**kwargs, "poll_interval": 0.05}))
    assert event["status"] == "timeout"
    assert stripe_env.count() >= 1
    moved = Cursor.from_json(event["cursor"])
    assert moved.floor == int(stripe_env.clock.now()) - 300
    assert moved.delivered == {}

    ti.pushed.clear()
    with pytest.raises(AirflowSensorTimeout, match="timed out"):
        StripeNewChargeSensor(task_id="new", deferrable=True).execute_complete(context_for(ti), event)
    assert Cursor.from_json(ti.pushed[CURSOR_XCOM_KEY]) == moved
