"""End-to-end latency: from a charge's creation to the sensor's success, against poke_interval + RTT.

    python benchmarks/latency.py                  # 12 trials per mode, poke_interval 1 s
    python benchmarks/latency.py --quick          # 2 trials per mode, 0.3 s: a smoke run

Two ways a sensor waits, each against the emulator in its own process:

- poke mode: ``StripeNewChargeSensor(mode="poke").execute(context)``: Airflow's own
  ``BaseSensorOperator.execute`` loop (poke, sleep ``poke_interval``, poke ...);
- deferrable: the same sensor with ``deferrable=True``: ``execute`` pokes once and raises
  ``TaskDeferred``; its trigger's ``run()`` polls on an event loop until it fires.

Each trial starts a fresh sensor ("now" as its start), waits a random moment (at least one idle
poll), creates one charge, and records creation (the create call's answer: the charge exists) ->
success (``execute`` returned it / the trigger yielded it). The bound is ``poke_interval`` + one
request round trip (RTT, the median of idle list requests through the hook, measured here).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from benchlib import (
    EmulatorProcess,
    Report,
    TaskInstanceStandIn,
    isolated_airflow_home,
    median,
    poke_context,
    stdout_to_file,
)

Watcher = Callable[[float], tuple[list[dict[str, Any]], float]]


def poke_mode(interval: float) -> tuple[list[dict[str, Any]], float]:
    """Airflow's poke loop until the sensor succeeds: what it returned, and when."""
    from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

    sensor = StripeNewChargeSensor(
        task_id="new_charges",
        start_from=int(time.time()),
        poke_interval=interval,
        timeout=120,
        mode="poke",
        deferrable=False,
    )
    found = sensor.execute(poke_context(TaskInstanceStandIn()))
    return found, time.perf_counter()


def deferrable_mode(interval: float) -> tuple[list[dict[str, Any]], float]:
    """``execute`` (one poke, then TaskDeferred), then the trigger on an event loop until it fires."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

    sensor = StripeNewChargeSensor(
        task_id="new_charges", start_from=int(time.time()), poke_interval=interval, deferrable=True
    )
    try:
        sensor.execute(poke_context(TaskInstanceStandIn()))
    except TaskDeferred as deferred:
        trigger = deferred.trigger
    else:
        raise RuntimeError("the sensor found a charge before any was created")

    async def first_event() -> tuple[list[dict[str, Any]], float]:
        async for event in trigger.run():
            return event.payload["objects"], time.perf_counter()
        raise RuntimeError("the trigger ended without an event")

    return asyncio.run(first_event())


def trial(watch: Watcher, interval: float, session: Any, base_url: str, rng: random.Random) -> float:
    """One charge's creation -> the sensor's success, in seconds.

    The sensor runs on this thread (Airflow 2's operator wrappers keep thread-local state set up on
    the main thread); a timer thread creates the charge.
    """
    created: dict[str, Any] = {}

    def create() -> None:
        answer = session.post(
            f"{base_url}/v1/charges",
            data={"amount": 500, "currency": "usd", "source": "tok_visa"},
            timeout=10,
        )
        created["at"] = time.perf_counter()
        answer.raise_for_status()
        created["id"] = answer.json()["id"]

    # Stripe's `created` has whole seconds and a sensor starting "now" counts its own second, so
    # the previous trial's charge must be in an earlier second than this trial's start.
    time.sleep(1.01 - time.time() % 1)
    maker = threading.Timer(interval + rng.uniform(0, interval), create)  # after the first poll
    maker.start()
    found, at = watch(interval)
    maker.join()
    ids = [charge["id"] for charge in found or []]
    if ids != [created.get("id")]:
        raise RuntimeError(f"the sensor returned {ids}, not the charge {created.get('id')}")
    return at - float(created["at"])


def round_trip(samples: int = 30) -> float:
    """Median seconds of an idle poll's request (an empty list page) through the hook."""
    from airflow_provider_stripe.hooks.stripe import StripeHook

    hook = StripeHook()
    query = {"limit": 100, "created": {"gte": int(time.time()) + 3600}}
    hook.request("GET", "/v1/charges", query)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        hook.request("GET", "/v1/charges", query)
        times.append(time.perf_counter() - started)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=12, help="charges per mode (%(default)s)")
    parser.add_argument("--interval", type=float, default=1.0, help="poke_interval, s (%(default)s)")
    parser.add_argument("--quick", action="store_true", help="2 trials per mode, 0.3 s: a smoke run")
    args = parser.parse_args()
    trials, interval = (2, 0.3) if args.quick else (args.trials, args.interval)

    isolated_airflow_home()
    import requests

    report = Report("End-to-end latency: charge created -> sensor succeeded")
    rng = random.Random(11)
    modes: dict[str, Watcher] = {
        "poke mode (BaseSensorOperator.execute)": poke_mode,
        "deferrable (trigger on an event loop)": deferrable_mode,
    }
    with EmulatorProcess() as emulator, stdout_to_file(), requests.Session() as session:
        os.environ["AIRFLOW_CONN_STRIPE_DEFAULT"] = emulator.connection_json()
        session.auth = (emulator.api_key, "")
        rtt = round_trip()
        latencies = {
            name: [trial(watch, interval, session, emulator.base_url, rng) for _ in range(trials)]
            for name, watch in modes.items()
        }

    bound = interval + rtt
    rows = []
    for name, values in latencies.items():
        rows.append(
            [
                name,
                len(values),
                f"{median(values) * 1000:.0f}",
                f"{max(values) * 1000:.0f}",
                f"{min(values) * 1000:.0f}",
                f"{bound * 1000:.0f}",
                f"{max(values) / bound:.2f}x",
            ]
        )
        report.verdict(
            f"{name}: every latency <= poke_interval + RTT ({bound * 1000:.0f} ms)",
            max(values) <= bound,
            f"max {max(values) * 1000:.0f} ms, median {median(values) * 1000:.0f} ms",
        )
    report.table(
        [
            "mode",
            "trials",
            "median ms",
            "max ms",
            "min ms",
            "bound: poke_interval + RTT, ms",
            "max / bound",
        ],
        rows,
        caption=f"poke_interval {interval:g} s; RTT (idle list request through the hook, median of 30) "
        f"{rtt * 1000:.1f} ms; charges created at random moments, so the expected median is about "
        "poke_interval / 2 + RTT.",
    )
    report.print()


if __name__ == "__main__":
    main()
