"""The wait for Stripe's clock: TaskDeferred -> Airflow's DateTimeTrigger -> execute_complete.

Stripe may show an object in its lists a little after the object's ``created`` (list endpoints
read from replicas); the export therefore lists an interval only once its end plus ``lookback``
has passed on Stripe's clock, which it reads from the ``Date`` header Stripe sends with every
answer (RFC 9110, section 6.6.1; Stripe's API reference shows it on every response).
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.transfers.conftest import create_at, read_lines


async def first_event(trigger: Any) -> Any:
    async for event in trigger.run():
        return event
    raise AssertionError("the trigger ended without an event")


def listed_ids(stripe: StripeEmulator, created: dict[str, int]) -> list[str]:
    answer = requests.get(
        f"{stripe.base_url}/v1/charges",
        params={"created[gte]": created["gte"], "created[lt]": created["lt"]},
        auth=(stripe.api_key, ""),
        timeout=10,
    )
    return [obj["id"] for obj in answer.json()["data"]]


def test_defers_until_the_lookback_has_passed_then_exports_late_objects(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    # The late charge shows up 5 s after it was created, so before the interval's end + 6 s of
    # lookback. The emulator's clock stays frozen (the charge hidden) until the wait has begun.
    on_time = create_at(stripe_env, "charges", time.time() - 30)
    stripe_env.visibility_delay = 5
    late = create_at(stripe_env, "charges", time.time())
    operator = StripeToObjectStorageOperator(
        task_id="export", resource="charges", path=f"file://{tmp_path}/", lookback=6
    )
    assert operator.hook.settings.stripe_version  # the connection is read before the clock starts
    stripe_env.clear_log()
    end = datetime.fromtimestamp(math.ceil(time.time()) + 1, timezone.utc)
    start = end - timedelta(minutes=1)
    context: Any = {"data_interval_start": start, "data_interval_end": end}

    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    deferred_by = datetime.now(timezone.utc)
    stripe_then = datetime.fromtimestamp(math.floor(stripe_env.clock.time()), timezone.utc)  # its Date header
    # Only Stripe's clock was read (the interval's newest page, whose Date header it is), nothing
    # was written, and no other page of the interval was asked for...
    assert len(stripe_env.requests) == 1
    assert not list(tmp_path.iterdir())
    # ... and listing now would have missed the late charge.
    window = {"gte": int(start.timestamp()), "lt": int(end.timestamp())}
    assert listed_ids(stripe_env, window) == on_time
    stripe_env.clock.reset()  # real time again: Stripe's clock, and its Date header, run on
    moment = deferred.value.trigger.moment
    # The wait is end + lookback on Stripe's clock, counted from when the answer came (a slow machine
    # moves the moment by as long as it took to defer, never earlier than end + lookback).
    assert end + timedelta(seconds=6) <= moment <= deferred_by + (end + timedelta(seconds=6) - stripe_then)

    event = asyncio.run(first_event(deferred.value.trigger))
    manifest = operator.execute_complete(context, event.payload)
    assert sorted(obj["id"] for obj in read_lines(tmp_path)) == sorted(on_time + late)
    assert manifest["objects"] == 2
    assert datetime.now(timezone.utc) >= end + timedelta(seconds=6)


def test_stripe_account_is_sent_and_recorded(stripe_env: StripeEmulator, tmp_path: Path) -> None:
    stripe_env.clock.reset()
    operator = StripeToObjectStorageOperator(
        task_id="export",
        resource="customers",
        path=f"file://{tmp_path}/",
        lookback=0,
        stripe_account="acct_1Connected",
    )
    end = datetime(2026, 1, 2, tzinfo=timezone.utc)
    context: Any = {"data_interval_start": end - timedelta(days=1), "data_interval_end": end}
    manifest = operator.execute(context)
    assert manifest["account"] == "acct_1Connected"
    assert operator.hook.settings.stripe_account == "acct_1Connected"
