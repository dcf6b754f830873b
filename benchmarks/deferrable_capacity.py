"""Deferrable capacity: 500 deferred Stripe sensors polling every 15 s on one triggerer process.

    python benchmarks/deferrable_capacity.py                      # 500 triggers, 75 s measured
    python benchmarks/deferrable_capacity.py --triggers 1000 --duration 60
    python benchmarks/deferrable_capacity.py --quick              # 50 triggers, 1 s polls, 3 s: a smoke run

What the triggerer does, in one process: one asyncio event loop runs every trigger's ``run()``
coroutine side by side. Here the trigger comes from the real sensor: ``StripeNewChargeSensor(
deferrable=True).execute(context)`` pokes once and raises ``TaskDeferred``; its trigger is
serialised and rebuilt from its classpath and kwargs (as the triggerer does), 500 times. The
triggers start at random moments within one poll interval, as sensors defer at different times
(``--together`` starts them at once, as after a triggerer restart); then a window of
``--duration`` seconds is measured:

- event-loop lag: a ticker task asks to wake every 50 ms; lag = actual wake-up - asked wake-up;
- CPU: ``time.process_time()`` of this process over the window, as a share of one core;
- requests: counted from the hook's one log line per request (logs go to a file, as on a triggerer).

The emulator runs in its own process, idle (no charge is created, so no trigger fires). Worker slots
while waiting: the sensor's ``execute`` returns control by raising ``TaskDeferred`` after one
request; Airflow then sets the task instance to ``deferred`` and ends its process, so a deferred
sensor holds no worker slot and runs no code outside the triggerer (the row "sensor execute").
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, cast

from benchlib import (
    EmulatorProcess,
    Report,
    TaskInstanceStandIn,
    isolated_airflow_home,
    median,
    percentile,
    poke_context,
    stdout_to_file,
)

TICK = 0.05
TARGET_LAG_P99_MS = 100.0
TARGET_CPU_PERCENT = 25.0


class RequestCounter(logging.Handler):
    """Counts the hook's per-request log lines: answered, failed, and their elapsed times."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ok = 0
        self.failed = 0
        self.elapsed_ms: list[float] = []
        self.counting = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.counting or not str(record.msg).startswith("Stripe %s %s -> "):
            return
        args = cast(tuple[Any, ...], record.args)
        outcome, elapsed = str(args[2]), float(args[5])
        if outcome.isdigit() and int(outcome) < 400:
            self.ok += 1
        else:
            self.failed += 1
        self.elapsed_ms.append(elapsed)  # the log line's argument is already in ms


class FullCollections:
    """Times each full (generation 2) garbage collection: the usual cause of a lone lag spike."""

    def __init__(self) -> None:
        self.durations_ms: list[float] = []
        self._started = 0.0
        self.recording = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self.recording:
            self.durations_ms.append((time.perf_counter() - self._started) * 1000)


@dataclass
class Window:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    lags_ms: list[float] = field(default_factory=list)
    events: int = 0
    emulator_cpu_seconds: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0


def defer_once(counter: RequestCounter) -> tuple[str, dict[str, Any], float, int]:
    """The real sensor's deferrable ``execute``: one poke, then ``TaskDeferred``. Its trigger, its
    time to give the worker slot back, and the requests it sent."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

    sensor = StripeNewChargeSensor(task_id="new_charges", deferrable=True, start_from=int(time.time()))
    counter.counting, counter.ok = True, 0
    started = time.perf_counter()
    try:
        sensor.execute(poke_context(TaskInstanceStandIn()))
    except TaskDeferred as deferred:
        elapsed = time.perf_counter() - started
        classpath, kwargs = deferred.trigger.serialize()
    else:
        raise RuntimeError("the deferrable sensor did not defer")
    counter.counting = False
    return classpath, kwargs, elapsed, counter.ok


def rebuild(classpath: str, kwargs: dict[str, Any]) -> Any:
    """What the triggerer does with a stored trigger row."""
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


async def triggerer(
    classpath: str,
    kwargs: dict[str, Any],
    count: int,
    warmup: float,
    duration: float,
    counter: RequestCounter,
    emulator_pid: int,
    together: bool,
    collections: FullCollections,
) -> Window:
    import psutil

    loop = asyncio.get_running_loop()
    window = Window()
    measuring = asyncio.Event()
    stop = asyncio.Event()
    rng = random.Random(42)
    process = psutil.Process()
    window.rss_before_mb = process.memory_info().rss / 2**20

    async def run_trigger(delay: float) -> None:
        await asyncio.sleep(delay)
        async for _event in rebuild(classpath, kwargs).run():
            window.events += 1
            return

    async def ticker() -> None:
        while not stop.is_set():
            asked = loop.time() + TICK
            await asyncio.sleep(TICK)
            if measuring.is_set():
                window.lags_ms.append((loop.time() - asked) * 1000)

    interval = float(kwargs["poll_interval"])
    delays = [0.0 if together else rng.uniform(0, interval) for _ in range(count)]
    tasks = [asyncio.create_task(run_trigger(delay)) for delay in delays]
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(warmup)

    emulator = psutil.Process(emulator_pid)
    emulator_cpu = sum(emulator.cpu_times()[:2])
    counter.counting = collections.recording = True
    measuring.set()
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.sleep(duration)
    window.seconds = time.perf_counter() - started
    window.cpu_seconds = time.process_time() - cpu
    measuring.clear()
    counter.counting = collections.recording = False
    window.emulator_cpu_seconds = sum(emulator.cpu_times()[:2]) - emulator_cpu
    window.rss_after_mb = process.memory_info().rss / 2**20

    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, tick, return_exceptions=True)
    return window


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triggers", type=int, default=500, help="deferred sensors (%(default)s)")
    parser.add_argument("--interval", type=float, default=15.0, help="poke_interval, s (%(default)s)")
    parser.add_argument("--duration", type=float, default=75.0, help="measured window, s (%(default)s)")
    parser.add_argument(
        "--together",
        action="store_true",
        help="start every trigger at once (a triggerer restart): they then poll in bursts",
    )
    parser.add_argument("--quick", action="store_true", help="50 triggers, 1 s interval, 3 s: a smoke run")
    args = parser.parse_args()
    count, interval, duration = args.triggers, args.interval, args.duration
    if args.quick:
        count, interval, duration = 50, 1.0, 3.0
    warmup = interval + 1.0  # every trigger started and through its first poll

    isolated_airflow_home()
    report = Report(f"Deferrable capacity: {count} deferred sensors on one triggerer event loop")
    counter = RequestCounter()
    logging.getLogger("airflow_provider_stripe").addHandler(counter)
    collections = FullCollections()
    gc.callbacks.append(collections)
    with EmulatorProcess() as emulator, stdout_to_file():
        os.environ["AIRFLOW_CONN_STRIPE_DEFAULT"] = emulator.connection_json()
        classpath, kwargs, defer_seconds, defer_requests = defer_once(counter)
        kwargs["poll_interval"] = interval
        window = asyncio.run(
            triggerer(
                classpath, kwargs, count, warmup, duration, counter, emulator.pid, args.together, collections
            )
        )

    cpu_percent = window.cpu_seconds / window.seconds * 100
    p99 = percentile(window.lags_ms, 99)
    expected = count * window.seconds / interval
    report.table(
        ["measure", "value"],
        [
            ["deferred sensors (triggers on one event loop)", count],
            ["poll interval", f"{interval:g} s"],
            ["triggers started", "all at once" if args.together else "at random moments in one interval"],
            ["measured window (after a warm-up of one interval)", f"{window.seconds:.1f} s"],
            ["event-loop lag p50 / p99 / max", _lags(window.lags_ms)],
            [
                "ticks measured (every 50 ms) / late by more than 100 ms",
                f"{len(window.lags_ms)} / {sum(lag > TARGET_LAG_P99_MS for lag in window.lags_ms)}",
            ],
            [
                "full garbage collections in the window / longest",
                f"{len(collections.durations_ms)} / {max(collections.durations_ms, default=0):.0f} ms",
            ],
            ["triggerer CPU, share of one core", f"{cpu_percent:.1f}%"],
            [
                "requests answered / failed (expected about triggers x window / interval)",
                f"{counter.ok:,} / {counter.failed} ({expected:,.0f})",
            ],
            ["requests per second", f"{counter.ok / window.seconds:.1f}"],
            [
                "request time p50 / p99 (as the triggers saw it)",
                f"{median(counter.elapsed_ms):.1f} / {percentile(counter.elapsed_ms, 99):.1f} ms",
            ],
            ["CPU per request (triggerer)", f"{window.cpu_seconds / max(counter.ok, 1) * 1e6:.0f} µs"],
            [
                "triggerer RSS before / after starting the triggers",
                f"{window.rss_before_mb:.0f} / {window.rss_after_mb:.0f} MB",
            ],
            ["emulator CPU over the window (other process)", f"{window.emulator_cpu_seconds:.1f} s"],
            ["trigger events fired (nothing new was created)", window.events],
            [
                "sensor execute: requests, then TaskDeferred after",
                f"{defer_requests} request, {defer_seconds * 1000:.0f} ms",
            ],
            ["worker slots held while deferred", 0],
        ],
    )
    report.verdict(
        f"event-loop lag p99 < {TARGET_LAG_P99_MS:.0f} ms", p99 < TARGET_LAG_P99_MS, f"{p99:.1f} ms"
    )
    report.verdict(
        f"triggerer CPU < {TARGET_CPU_PERCENT:.0f}% of one core",
        cpu_percent < TARGET_CPU_PERCENT,
        f"{cpu_percent:.1f}%",
    )
    report.verdict(
        "worker slots used while waiting: 0",
        defer_requests == 1,
        f"execute raised TaskDeferred after {defer_requests} request; a deferred task instance has no "
        "process (the triggerer runs the trigger)",
    )
    report.notes.append(
        "Each trigger keeps its own keep-alive aiohttp session (one connection) for its life, so "
        f"{count} triggers hold {count} connections to Stripe."
    )
    report.print()


def _lags(lags_ms: list[float]) -> str:
    return (
        f"{median(lags_ms):.1f} / {percentile(lags_ms, 99):.1f} / "
        f"{max(lags_ms) if lags_ms else float('nan'):.1f} ms"
    )


if __name__ == "__main__":
    main()
