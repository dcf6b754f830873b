"""Change-feed cost: requests and time per batch of StripeNewEventSensor, with and without refetch.

    python benchmarks/change_feed_cost.py            # batches of 100 events, 7 repetitions
    python benchmarks/change_feed_cost.py --quick    # 3 repetitions: a smoke run

An in-process emulator holds ``customer.updated`` events; each repetition pokes a fresh sensor
(``event_types=["customer.updated"]``, ``max_batch=100``, its real poll path: hook, page walk,
retention check, refetch) once from a cursor before them all. Requests are counted in the
emulator's log; the baseline is the same batch without refetch, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from benchlib import (
    Report,
    TaskInstanceStandIn,
    isolated_airflow_home,
    median,
    poke_context,
    poked_objects,
    spread,
    stdout_to_file,
)

BATCH = 100


def seed(emulator: Any, customers: int, updates_each: int) -> int:
    """``customers`` customers updated ``updates_each`` times; returns the second before them."""
    from airflow_provider_stripe.hooks.stripe import StripeHook

    emulator.reset()
    emulator.clock.freeze()
    start = emulator.clock.now()
    emulator.clock.advance(1)
    hook = StripeHook()
    for made in range(customers):
        customer = hook.customers.create({"name": f"c{made}"}).object
        for update in range(updates_each):
            hook.request("POST", f"/v1/customers/{customer['id']}", {"name": f"c{made}-{update}"})
    emulator.clock.advance(1)
    return start


def measure(emulator: Any, start: int, refetch: bool, repetitions: int) -> tuple[int, list[float]]:
    from airflow_provider_stripe.sensors.stripe import StripeNewEventSensor

    seconds, requests = [], 0
    for _ in range(repetitions + 1):  # the first one warms up (connection lookup, keep-alive)
        sensor = StripeNewEventSensor(
            task_id="events",
            event_types=["customer.updated"],
            refetch=refetch,
            start_from=start,
            max_batch=BATCH,
            mode="poke",
        )
        emulator.clear_log()
        started = time.perf_counter()
        delivered = poked_objects(sensor.poke(poke_context(TaskInstanceStandIn("events"))))
        seconds.append(time.perf_counter() - started)
        requests = len(emulator.requests)
        if len(delivered) != BATCH:
            raise RuntimeError(f"a poke delivered {len(delivered)} events, not {BATCH}")
    return requests, seconds[1:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 repetitions: a smoke run")
    repetitions = 3 if parser.parse_args().quick else 7

    isolated_airflow_home()
    from airflow_provider_stripe.testing import StripeEmulator

    report = Report("Change-feed cost: one batch of 100 events, StripeNewEventSensor, refetch off and on")
    rows: list[tuple[str, bool, int, int]] = [
        ("100 events of 100 customers, refetch=False (baseline)", False, BATCH, 1),
        ("100 events of 100 customers, refetch=True", True, BATCH, 1),
        ("100 events of 1 customer, refetch=True", True, 1, BATCH),
    ]
    results = []
    with StripeEmulator(rate_limit=None) as emulator, stdout_to_file():
        os.environ["AIRFLOW_CONN_STRIPE_DEFAULT"] = emulator.connection_json()
        for label, refetch, customers, updates_each in rows:
            start = seed(emulator, customers, updates_each)
            results.append((label, *measure(emulator, start, refetch, repetitions)))
    baseline = median(results[0][2])
    report.table(
        ["batch", "requests", "median ms", "min-max ms", "time vs baseline"],
        [
            [
                label,
                requests,
                f"{median(times) * 1000:.1f}",
                spread([t * 1000 for t in times]),
                f"{median(times) / baseline:.2f}x",
            ]
            for label, requests, times in results
        ],
        caption=f"One poke from a cursor before the batch, {repetitions} repetitions, emulator in process.",
    )
    report.verdict(
        "without refetch a batch of 100 costs 1 list request", results[0][1] == 1, f"{results[0][1]}"
    )
    report.verdict(
        "refetch costs one GET per distinct object",
        [r[1] for r in results[1:]] == [1 + BATCH, 2],
        ", ".join(str(r[1]) for r in results[1:]),
    )
    report.notes.append(
        "Against api.stripe.com each request is a round trip of tens of milliseconds and counts against "
        "the read rate limit (about 100 a second): refetch a batch of 100 distinct objects is 101 requests."
    )
    report.print()


if __name__ == "__main__":
    main()
