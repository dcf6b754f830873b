"""Export memory: 100,000 charges exported to JSON Lines with constant memory, against holding them all.

    python benchmarks/export_memory.py               # 100,000 charges
    python benchmarks/export_memory.py --quick       # 2,000 charges: a smoke run

The emulator runs in its own process; this process seeds it over HTTP, then starts one fresh
measuring process per row so that nothing else is counted. Each first makes one list request (imports,
connection, keep-alive session in place), takes its baseline RSS, then:

- ``export jsonl`` / ``export jsonl.gz``: ``StripeToObjectStorageOperator.execute()`` over a data
  interval holding every charge, into a local folder (``file://``), 25,000 objects per part.
- baseline ``hold everything``: ``list(hook.paginate("/v1/charges", ...))`` over the same interval,
  what an export that collects before writing would hold.

Peak RSS growth is ``ru_maxrss`` after minus RSS before.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

from benchlib import EmulatorProcess, Report, create_charges, isolated_airflow_home, stdout_to_file

TARGET_MB = 50.0
OBJECTS_PER_PART = 25_000


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(mode: str, start: int, end: int) -> dict[str, Any]:
    """Runs in a fresh process: warm up, take the baseline, do the work, report the growth."""
    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

    StripeHook().request("GET", "/v1/charges", {"limit": 100})
    before = rss_mb()
    started = time.perf_counter()
    if mode == "hold-everything":
        held = list(StripeHook().paginate("/v1/charges", {"created": {"gte": start, "lt": end}}))
        objects, size = len(held), 0
    else:
        folder = tempfile.mkdtemp(prefix="stripe-export-bench-")
        operator = StripeToObjectStorageOperator(
            task_id="export",
            resource="charges",
            path=f"file://{folder}/",
            format=mode.removeprefix("export-"),
            lookback=0,
            objects_per_part=OBJECTS_PER_PART,
        )
        context: Any = {
            "data_interval_start": datetime.fromtimestamp(start, timezone.utc),
            "data_interval_end": datetime.fromtimestamp(end, timezone.utc),
        }
        manifest = operator.execute(context)
        objects, size = manifest["objects"], manifest["bytes"]
    return {
        "objects": objects,
        "bytes": size,
        "seconds": time.perf_counter() - started,
        "peak_growth_mb": max_rss_mb() - before,
        "baseline_rss_mb": before,
    }


def measure(emulator: EmulatorProcess, mode: str, start: int, end: int) -> dict[str, Any]:
    env = {**os.environ, "AIRFLOW_CONN_STRIPE_DEFAULT": emulator.connection_json()}
    command = [sys.executable, __file__, "--child", mode, "--start", str(start), "--end", str(end)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000, help="charges to export (%(default)s)")
    parser.add_argument("--quick", action="store_true", help="2,000 charges: a smoke run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--end", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = 2_000 if args.quick else args.count

    isolated_airflow_home()
    if args.child:
        with stdout_to_file():
            result = child(args.child, args.start, args.end)
        print(json.dumps(result))
        return

    report = Report(f"Export memory: {count:,} charges to JSON Lines, against holding them all")
    with EmulatorProcess() as emulator:
        start = int(time.time())
        seeded = time.perf_counter()
        create_charges(emulator.base_url, emulator.api_key, count)
        seed_seconds = time.perf_counter() - seeded
        end = int(time.time()) + 1
        time.sleep(max(0.0, end - time.time()))  # the interval has ended on Stripe's clock too
        modes = ["export-jsonl", "export-jsonl.gz", "hold-everything"]
        results = {mode: measure(emulator, mode, start, end) for mode in modes}

    labels = {
        "export-jsonl": "export, jsonl",
        "export-jsonl.gz": "export, jsonl.gz",
        "hold-everything": "baseline: list(hook.paginate(...)), all held",
    }
    held = results["hold-everything"]["peak_growth_mb"]
    rows = [
        [
            labels[mode],
            f"{result['objects']:,}",
            f"{result['bytes'] / 2**20:.1f}" if result["bytes"] else "-",
            f"{result['peak_growth_mb']:.1f}",
            f"{result['peak_growth_mb'] / held:.3f}" if held > 0 else "-",
            f"{result['seconds']:.1f}",
            f"{result['objects'] / result['seconds']:,.0f}",
        ]
        for mode, result in results.items()
    ]
    report.table(
        ["what", "charges", "MB written", "peak RSS growth MB", "x baseline", "seconds", "charges/s"],
        rows,
        caption=f"Measuring process: fresh, emulator in another process; RSS after warm-up "
        f"{results['export-jsonl']['baseline_rss_mb']:.0f} MB. {count:,} charges seeded over HTTP in "
        f"{seed_seconds:.1f} s; {OBJECTS_PER_PART:,} objects per part.",
    )
    if any(result["objects"] != count for result in results.values()):
        raise RuntimeError(f"not every row saw {count:,} charges: {results}")
    worst = max(results["export-jsonl"]["peak_growth_mb"], results["export-jsonl.gz"]["peak_growth_mb"])
    report.verdict(
        f"peak RSS growth while exporting {count:,} charges < {TARGET_MB:.0f} MB",
        worst < TARGET_MB,
        f"{worst:.1f} MB; holding all of them instead: {held:.1f} MB",
    )
    report.print()


if __name__ == "__main__":
    main()
