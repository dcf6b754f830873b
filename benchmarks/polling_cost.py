"""Polling cost: how many Stripe API requests a new-charge sensor sends to deliver a backlog, and idle.

    python benchmarks/polling_cost.py             # backlogs 0, 1, 99, 100, 101, 1,000, 10,000
    python benchmarks/polling_cost.py --quick     # up to 1,000: a smoke run

Each backlog starts from an empty in-process emulator (its request log is the counter, its clock is
frozen and steered, and its answers' ``Date`` header follows that clock as Stripe's follows its own)
and seeds N charges over HTTP, 100 per emulated second. ``StripeNewChargeSensor(...).poke(context)``
(the sensor's real poll path: hook, pagination, cursor) runs with ``max_batch=100``; a task-instance
stand-in carries the ``stripe_cursor`` XCom from one poke to the next, as consecutive DAG runs would.

Two sensors watch the same charges:

- *fresh burst*: it delivers the backlog right away (all of it inside the 5-minute lookback), pokes
  once more idle, then Stripe's clock moves past the lookback: its first poke then lists the window
  once (the objects in it may have shown up late), and the idle poke after that is counted.
- *burst older than the lookback*: a second sensor starts once Stripe's clock is past the lookback,
  delivers the same backlog, and pokes once more idle.

Then *idle runs after a burst* (issue 21): a sensor delivers a 1,000-charge burst, Stripe's clock
moves past the lookback, and three runs of 5 idle pokes each end without delivering (their
timeout); each run reads the cursor the run before it saved.

Bounds checked (issue 12): delivering N costs at most 2 x ceil(N/100) + (number of runs) requests,
and an idle poke after a burst older than the lookback costs 1 request. Issue 21: only the first
idle run after the burst lists it (its pages once), every later one costs a request a poke.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import dataclass
from typing import Any

from benchlib import (
    Report,
    TaskInstanceStandIn,
    create_charges,
    isolated_airflow_home,
    poke_context,
    poked_objects,
    stdout_to_file,
)

BACKLOGS = (0, 1, 99, 100, 101, 1_000, 10_000)
QUICK_BACKLOGS = (0, 1, 99, 100, 101, 1_000)
PER_SECOND = 100
MAX_BATCH = 100
PAGE = 100
LOOKBACK_SECONDS = 300
IDLE_BURST = 1_000
IDLE_RUNS = 3
POKES_PER_RUN = 5


@dataclass
class Drain:
    first_poke: int
    runs: int
    requests: int
    seconds: float

    def bound(self, backlog: int) -> int:
        return 2 * math.ceil(backlog / PAGE) + self.runs


@dataclass
class Outcome:
    backlog: int
    fresh: Drain
    fresh_idle: int
    relisting: int
    fresh_idle_after: int
    aged: Drain
    aged_idle: int


class Poker:
    """One sensor and its run-to-run XCom, counting the emulator's list requests per poke."""

    def __init__(self, emulator: Any, start: int) -> None:
        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

        self.emulator = emulator
        self.sensor = StripeNewChargeSensor(
            task_id="new_charges",
            start_from=start,
            max_batch=MAX_BATCH,
            lookback=LOOKBACK_SECONDS,
            mode="poke",
            deferrable=False,
        )
        self.ti = TaskInstanceStandIn()

    def poke(self) -> tuple[int, int]:
        self.emulator.clear_log()
        found = self.sensor.poke(poke_context(self.ti))
        return self.emulator.count("GET", "/v1/charges"), len(poked_objects(found))

    def idle(self, backlog: int) -> int:
        sent, got = self.poke()
        if got:
            raise RuntimeError(f"backlog {backlog}: an idle poke delivered {got} charge(s)")
        return sent

    def drain(self, backlog: int) -> Drain:
        started = time.perf_counter()
        first_poke, delivered = self.poke()
        runs, requests = 1, first_poke
        while delivered < backlog:
            sent, got = self.poke()
            runs, requests, delivered = runs + 1, requests + sent, delivered + got
            if not got:
                raise RuntimeError(f"backlog {backlog}: a poke delivered nothing, {backlog - delivered} left")
        return Drain(first_poke, runs, requests, time.perf_counter() - started)


def burst_on_a_frozen_clock(emulator: Any, count: int) -> int:
    """Reset the emulator, freeze its clock and create ``count`` charges, :data:`PER_SECOND` a second;
    the clock's time before the first one."""
    emulator.reset()
    emulator.clock.freeze()
    start = emulator.clock.now()
    for made in range(0, count, PER_SECOND):
        emulator.clock.advance(1)
        create_charges(emulator.base_url, emulator.api_key, min(PER_SECOND, count - made), threads=1)
    emulator.clock.advance(1)
    return start


def scenario(emulator: Any, backlog: int) -> Outcome:
    start = burst_on_a_frozen_clock(emulator, backlog)
    fresh = Poker(emulator, start)
    fresh_drain = fresh.drain(backlog)
    fresh_idle = fresh.idle(backlog)
    emulator.clock.advance(LOOKBACK_SECONDS + 1)
    relisting = fresh.idle(backlog)
    fresh_idle_after = fresh.idle(backlog)

    aged = Poker(emulator, start)
    aged_drain = aged.drain(backlog)
    aged_idle = aged.idle(backlog)
    return Outcome(backlog, fresh_drain, fresh_idle, relisting, fresh_idle_after, aged_drain, aged_idle)


def idle_runs_after_a_burst(emulator: Any) -> list[int]:
    """List requests of each of :data:`IDLE_RUNS` runs of :data:`POKES_PER_RUN` idle pokes, after a
    run delivered an :data:`IDLE_BURST`-charge burst and Stripe's clock moved past the lookback."""
    poker = Poker(emulator, burst_on_a_frozen_clock(emulator, IDLE_BURST))
    poker.drain(IDLE_BURST)
    emulator.clock.advance(LOOKBACK_SECONDS + 1)
    costs = []
    for run in range(IDLE_RUNS):
        poker.ti.run_id = f"idle_{run + 1}"  # a new run: the sensor starts from the stored cursor
        costs.append(sum(poker.idle(IDLE_BURST) for _ in range(POKES_PER_RUN)))
    return costs


DRAIN_COLUMNS = [
    "new charges N",
    "1st poke",
    "runs to deliver all",
    "requests to deliver all",
    "bound 2 x ceil(N/100) + runs",
    "idle poke right after",
]


def drain_row(backlog: int, drain: Drain, idle: int) -> list[object]:
    return [
        f"{backlog:,}",
        drain.first_poke,
        drain.runs,
        f"{drain.requests:,}",
        f"{drain.bound(backlog):,}",
        idle,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="backlogs up to 1,000: a smoke run")
    args = parser.parse_args()
    backlogs = QUICK_BACKLOGS if args.quick else BACKLOGS

    isolated_airflow_home()
    from airflow_provider_stripe.testing import StripeEmulator

    report = Report("Polling cost: API requests of StripeNewChargeSensor to deliver a backlog, and idle")
    with StripeEmulator(rate_limit=None) as emulator, stdout_to_file():
        os.environ["AIRFLOW_CONN_STRIPE_DEFAULT"] = emulator.connection_json()
        outcomes = [scenario(emulator, backlog) for backlog in backlogs]
        idle_runs = idle_runs_after_a_burst(emulator)

    report.table(
        [*DRAIN_COLUMNS, "1st poke once past the lookback", "idle poke after that", "seconds to deliver all"],
        [
            [
                *drain_row(o.backlog, o.fresh, o.fresh_idle),
                o.relisting,
                o.fresh_idle_after,
                f"{o.fresh.seconds:.2f}",
            ]
            for o in outcomes
        ],
        caption=f"Fresh burst (inside the lookback when delivered). max_batch={MAX_BATCH}, lookback "
        f"{LOOKBACK_SECONDS} s, 100 objects per list page; requests counted in the emulator's log.",
    )
    report.table(
        DRAIN_COLUMNS,
        [drain_row(o.backlog, o.aged, o.aged_idle) for o in outcomes],
        caption=f"Burst older than the lookback ({LOOKBACK_SECONDS} s by Stripe's clock) when a new "
        "sensor delivers it.",
    )
    report.table(
        ["idle run after the burst", "pokes", "list requests"],
        [[run, POKES_PER_RUN, sent] for run, sent in enumerate(idle_runs, start=1)],
        caption=f"Idle sensor runs after a {IDLE_BURST:,}-charge burst (delivered by an earlier run, now "
        f"older than the {LOOKBACK_SECONDS} s lookback): each run of {POKES_PER_RUN} pokes ends "
        "without delivering (its timeout) and saves how far it looked for the next.",
    )
    idle = next(o for o in outcomes if o.backlog == 0)
    report.table(
        ["poke_interval", "pokes a day", "API calls a day per idle sensor (measured 1 per poke)"],
        [
            [label, f"{86_400 // seconds:,}", f"{86_400 // seconds * idle.fresh.first_poke:,}"]
            for label, seconds in (("15 s (default)", 15), ("1 min", 60), ("5 min", 300), ("1 h", 3600))
        ],
        caption="Idle cost per day: 86,400 / poke_interval calls per sensor.",
    )
    report.verdict("an idle poke is 1 request", idle.fresh.first_poke == 1, f"{idle.fresh.first_poke}")
    over = [
        f"N={o.backlog:,} ({which}): {drain.requests} > {drain.bound(o.backlog)}"
        for o in outcomes
        for which, drain in (("fresh", o.fresh), ("older than the lookback", o.aged))
        if drain.requests > drain.bound(o.backlog)
    ]
    report.verdict(
        "delivering N costs <= 2 x ceil(N/100) + runs requests",
        not over,
        "; ".join(over)
        or ", ".join(f"N={o.backlog:,}: {o.fresh.requests:,} / {o.aged.requests:,}" for o in outcomes),
    )
    idles = [o.aged_idle for o in outcomes] + [o.fresh_idle_after for o in outcomes]
    report.verdict(
        "an idle poke after a burst older than the lookback is 1 request",
        all(sent == 1 for sent in idles),
        "older burst: "
        + ", ".join(f"N={o.backlog:,}: {o.aged_idle}" for o in outcomes)
        + "; fresh burst, once past the lookback: "
        + ", ".join(f"N={o.backlog:,}: {o.fresh_idle_after}" for o in outcomes),
    )
    report.verdict(
        f"every idle run after the first costs a request a poke ({POKES_PER_RUN})",
        all(sent == POKES_PER_RUN for sent in idle_runs[1:]),
        ", ".join(f"run {run}: {sent}" for run, sent in enumerate(idle_runs, start=1)),
    )
    report.notes += [
        "The first poke lists from the cursor's floor, newest first, down to the oldest news: "
        "ceil(N/100) requests. While a batch comes out full, each next run walks toward newer charges "
        "with `ending_before` from the last one delivered: one request per 100. The run that reaches "
        "the newest charge lists the lookback window once (ceil(W/100), W the charges in it), for "
        "charges that showed up in Stripe's list late, behind the walk.",
        "Once caught up, the floor follows Stripe's clock (the `Date` of its answers) minus the "
        "lookback. A burst still inside the lookback is listed by each idle poke (it may hold charges "
        "not visible yet); the first poke after it is older than the lookback lists it one last time, "
        "and every idle poke after that is one request. A burst that is already older than the "
        "lookback when it is walked is never listed again.",
        "The cursor remembers at most 5,000 delivered ids; beyond that it narrows its window (oldest "
        "seconds first), which is why a 10,000 burst costs 50 requests per listing, not 100.",
        "Memory stays at one page plus one batch whatever N is (see memory.py).",
        "A run that ends without delivering (timeout, soft fail) saves its cursor's progress (the floor "
        "on Stripe's clock, the ids it still keeps) in its stripe_cursor XCom, so the next run does "
        "not list a settled burst again. Before issue 21, every idle run after this burst cost 15 "
        "requests for 5 pokes (a walk, the burst's 10 pages, then a request for each other poke), "
        "until a run delivered something.",
    ]
    report.print()


if __name__ == "__main__":
    main()
