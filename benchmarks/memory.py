"""Memory: delivering a 10,000-charge backlog in batches holds one page plus one batch, not the backlog.

    python benchmarks/memory.py               # 10,000 charges
    python benchmarks/memory.py --quick       # 1,000 charges: a smoke run

The emulator runs in its own process; this process seeds it over HTTP, then starts fresh measuring
processes so that nothing else is counted:

- ``deliver``: ``StripeNewChargeSensor(max_batch=100).poke(context)`` again and again, the cursor
  carried from poke to poke by a task-instance stand-in (as consecutive DAG runs), until every
  charge was delivered once. Peak RSS growth (``ru_maxrss``) from just before the first poke.
- ``deliver, tracemalloc``: the same for the first few pokes under ``tracemalloc`` (slow, so not all
  of them; every poke lists the same window, so its peak is the same); peak of traced allocations.
- baseline ``load everything``: what holding the whole backlog costs, ``list(hook.charges.list(...))``
  of the same charges in the same kind of process.

Each measuring process first makes one list request of a full page, so that imports, the
connection and the keep-alive session are in place before the baseline reading.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from benchlib import (
    EmulatorProcess,
    Report,
    TaskInstanceStandIn,
    create_charges,
    isolated_airflow_home,
    poke_context,
    poked_objects,
    stdout_to_file,
)

TARGET_MB = 50.0
MAX_BATCH = 100
TRACED_POKES = 3


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(mode: str, start: int, count: int) -> dict[str, Any]:
    """Runs in a fresh process: warm up, take the baseline, do the work, report the growth."""
    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.sensors.stripe import CURSOR_XCOM_KEY, StripeNewChargeSensor

    hook = StripeHook()
    hook.request("GET", "/v1/charges", {"limit": 100})
    sensor = StripeNewChargeSensor(
        task_id="new_charges", start_from=start, max_batch=MAX_BATCH, mode="poke", deferrable=False
    )
    ti = TaskInstanceStandIn()
    before_max, before_rss = max_rss_mb(), rss_mb()
    started = time.perf_counter()
    pokes = delivered = 0
    seen: set[str] = set()
    if mode == "load-everything":
        everything = list(hook.charges.list({"created": {"gte": start}}))
        delivered = len(everything)
        seen = {charge["id"] for charge in everything}
    else:
        if mode == "tracemalloc":
            tracemalloc.start()
        while delivered < count and not (mode == "tracemalloc" and pokes == TRACED_POKES):
            found = sensor.poke(poke_context(ti))
            pokes += 1
            if not found:
                raise RuntimeError(f"poke {pokes} found nothing with {count - delivered} charges left")
            batch = poked_objects(found)
            delivered += len(batch)
            seen.update(charge["id"] for charge in batch)
            del found, batch
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if tracemalloc.is_tracing() else None
    tracemalloc.stop()
    if mode != "tracemalloc" and (delivered != count or len(seen) != count):
        raise RuntimeError(f"delivered {delivered} ({len(seen)} distinct) of {count}")
    cursor = ti.xcoms.get(CURSOR_XCOM_KEY) or ""
    return {
        "pokes": pokes,
        "delivered": delivered,
        "seconds": time.perf_counter() - started,
        "max_rss_growth_mb": max_rss_mb() - before_max,
        "rss_growth_mb": rss_mb() - before_rss,
        "baseline_rss_mb": before_rss,
        "traced_peak_mb": traced_peak,
        "cursor_kb": len(cursor) / 1024,
    }


def measure(emulator: EmulatorProcess, mode: str, start: int, count: int) -> dict[str, Any]:
    env = {**os.environ, "AIRFLOW_CONN_STRIPE_DEFAULT": emulator.connection_json()}
    command = [sys.executable, __file__, "--child", mode, "--start", str(start), "--count", str(count)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="backlog size (%(default)s)")
    parser.add_argument("--quick", action="store_true", help="1,000 charges: a smoke run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = 1_000 if args.quick else args.count

    isolated_airflow_home()
    if args.child:
        with stdout_to_file():
            result = child(args.child, args.start, args.count)
        print(json.dumps(result))
        return

    report = Report(f"Memory: delivering a {count:,}-charge backlog in batches of {MAX_BATCH}")
    with EmulatorProcess() as emulator:
        start = int(time.time()) - 1
        seeded = time.perf_counter()
        create_charges(emulator.base_url, emulator.api_key, count)
        seed_seconds = time.perf_counter() - seeded
        modes = ["deliver", "tracemalloc", "load-everything"]
        if args.quick:
            modes.remove("tracemalloc")
        results = {mode: measure(emulator, mode, start, count) for mode in modes}

    labels = {
        "deliver": f"sensor pokes, max_batch={MAX_BATCH}, until all delivered",
        "tracemalloc": f"the same, first {TRACED_POKES} pokes under tracemalloc",
        "load-everything": "baseline: list(hook.charges.list(...)), the whole backlog held",
    }
    rows = []
    for mode, result in results.items():
        traced = result["traced_peak_mb"]
        rows.append(
            [
                labels[mode],
                f"{result['delivered']:,}",
                result["pokes"] or "-",
                f"{result['max_rss_growth_mb']:.1f}",
                f"{result['rss_growth_mb']:.1f}",
                f"{traced:.1f}" if traced is not None else "-",
                f"{result['seconds']:.1f}",
            ]
        )
    report.table(
        [
            "what",
            "charges",
            "pokes",
            "peak RSS growth MB (ru_maxrss)",
            "RSS growth MB at the end",
            "tracemalloc peak MB",
            "seconds",
        ],
        rows,
        caption=f"Measuring process: fresh, emulator in another process; baseline RSS after warm-up "
        f"{results['deliver']['baseline_rss_mb']:.0f} MB. {count:,} charges seeded over HTTP in "
        f"{seed_seconds:.1f} s.",
    )
    growth = results["deliver"]["max_rss_growth_mb"]
    everything = results["load-everything"]["max_rss_growth_mb"]
    report.verdict(
        f"peak RSS growth while delivering {count:,} charges < {TARGET_MB:.0f} MB",
        growth < TARGET_MB,
        f"{growth:.1f} MB; holding all of them instead: {everything:.1f} MB",
    )
    report.notes.append(
        f"The cursor XCom after the last poke is {results['deliver']['cursor_kb']:.0f} kB of JSON "
        "(ids delivered inside the lookback window, at most 5,000)."
    )
    report.print()


if __name__ == "__main__":
    main()
