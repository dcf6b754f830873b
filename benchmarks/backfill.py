"""Backfill: a day of charges exported at Stripe's rate limit, against one page after another.

    python benchmarks/backfill.py                      # a day of 10,000 and of 100,000 charges
    python benchmarks/backfill.py --sizes 10000        # the 10,000 rows only
    python benchmarks/backfill.py --quick              # 1,000 charges, short answers: a smoke run

The emulator runs in this process, with Stripe's limiter on (25 requests a second with the test
key, 100 with the live key, as a Stripe sandbox and live mode) and every answer delayed by the
latency of the row, as Stripe's list answers are (0.2 to 1 s). Charges are seeded straight into
its store (``create_objects``), in both modes. Each export runs in a fresh process of its own
(the worker), so the emulator's CPU is not the export's:

- ``paced``: ``StripeToObjectStorageOperator.execute()`` with default settings over the day, into
  a local folder: its budget is Stripe's limit for the key's mode.
- ``sequential``: one page after another (``hook.paginate``) into the same part files, what the
  export did before it was sliced; its speed is one page per answer whatever the size, so it runs
  at sizes up to ``--sequential-max`` only.

Requests and 429s are counted by the emulator; seconds and peak RSS growth by the worker. The curve
(charges a second against the answer latency, paced and sequential, the limit's 100 objects a
request as a line) goes to docs/backfill.png when matplotlib is installed (``pip install
.[bench]``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchlib import ROOT, Report, isolated_airflow_home, stdout_to_file

DAY = 86_400
START = 1_795_132_800  # 2026-11-20T00:00:00Z: long past, no lookback wait
LIMITS = {"test": 25, "live": 100}
PNG = ROOT / "docs" / "backfill.png"


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


class PeakRss:
    """The highest RSS of this process, sampled every 20 ms (``ru_maxrss`` would report the RSS of
    the parent this worker was forked from, the emulator with every charge)."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_mb())


def child(how: str) -> dict[str, Any]:
    """In a fresh worker process: warm up, take the baseline, export the day, report."""
    from datetime import datetime, timezone

    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.transfers.jsonl import PartWriter
    from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

    folder = Path(tempfile.mkdtemp(prefix="stripe-backfill-bench-"))
    StripeHook().settings  # noqa: B018  (imports and the connection in place before the baseline)
    before = rss_mb()
    sampler = PeakRss()
    started = time.perf_counter()
    if how == "paced":
        operator = StripeToObjectStorageOperator(
            task_id="export", resource="charges", path=f"file://{folder}/"
        )
        context: Any = {
            "data_interval_start": datetime.fromtimestamp(START, timezone.utc),
            "data_interval_end": datetime.fromtimestamp(START + DAY, timezone.utc),
        }
        objects = operator.execute(context)["objects"]
    else:
        pages = StripeHook().paginate("/v1/charges", {"created": {"gte": START, "lt": START + DAY}})
        with PartWriter(lambda name: (folder / name).open("wb"), "jsonl", 100_000) as writer:
            for obj in pages:
                writer.write(obj)
        objects = sum(part.objects for part in writer.parts)
    seconds = time.perf_counter() - started
    peak = sampler.stop() - before
    return {"objects": objects, "seconds": seconds, "peak_growth_mb": peak}


def measure(
    emulator: Any, size: int, how: str, mode: str, latency: float, done: dict[Any, Any]
) -> dict[str, Any]:
    """One export of the day's ``size`` charges, or the same one already measured in this run (the
    curve reuses the table's)."""
    key = (size, how, mode, latency)
    if key not in done:
        done[key] = _measure(emulator, size, how, mode, latency)
    result: dict[str, Any] = done[key]
    return result


def _measure(emulator: Any, size: int, how: str, mode: str, latency: float) -> dict[str, Any]:
    key = emulator.live_api_key if mode == "live" else emulator.api_key
    emulator.latency = latency
    emulator.rate_limit(LIMITS["test"], LIMITS["live"])
    emulator.clear_log()
    env = {**os.environ, "AIRFLOW_CONN_STRIPE_DEFAULT": emulator.connection_json(key)}
    done = subprocess.run([sys.executable, __file__, "--child", how], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"{how} export failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    listed = [r for r in emulator.requests if r.method == "GET" and r.path == "/v1/charges"]
    result["requests"] = len(listed)
    result["answered"] = sum(r.status == 200 for r in listed)
    result["limited"] = sum(r.status == 429 for r in listed)
    result["complete"] = result["objects"] == size
    return result


def row(size: int, latency: float, limit: int, how: str, result: dict[str, Any]) -> list[object]:
    seconds = result["seconds"]
    return [
        f"{size:,}",
        f"{latency:g}",
        limit,
        how,
        f"{seconds:.1f}",
        f"{result['answered'] / seconds:.1f}",
        f"{result['answered'] / seconds / limit:.0%}",
        f"{result['limited']} ({result['limited'] / max(1, result['requests']):.0%})",
        f"{result['objects'] / seconds:,.0f}",
        f"{result['peak_growth_mb']:.1f}",
    ]


def draw(curve: dict[str, list[tuple[float, float]]], limit: int, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    for how, points in curve.items():
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=how)
    axes.axhline(limit * 100, linestyle="--", color="grey", label=f"the limit: {limit} requests/s x 100")
    axes.set_xlabel("Stripe's answer time (s)")
    axes.set_ylabel("charges exported a second")
    axes.set_title(f"A day of charges, one export task, a {limit} requests/s account")
    axes.set_ylim(bottom=0)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="charges in the day, comma-separated (%(default)s)"
    )
    parser.add_argument(
        "--latencies", default="0.2,1.0", help="seconds an answer, comma-separated (%(default)s)"
    )
    parser.add_argument(
        "--sequential-max", type=int, default=10_000, help="largest size exported one page after another"
    )
    parser.add_argument("--curve", default="0.05,0.2,0.5,1.0", help="answer times of the curve (%(default)s)")
    parser.add_argument("--curve-size", type=int, default=10_000, help="charges in the curve's day")
    parser.add_argument("--png", default=str(PNG), help="where the curve goes (%(default)s)")
    parser.add_argument("--quick", action="store_true", help="1,000 charges, short answers: a smoke run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    isolated_airflow_home()
    if args.child:
        with stdout_to_file():
            result = child(args.child)
        print(json.dumps(result))
        return
    if args.quick:
        args.sizes, args.latencies, args.curve, args.curve_size = "1000", "0.05", "0.05", 1000

    from airflow_provider_stripe.testing import StripeEmulator

    sizes = [int(size) for size in args.sizes.split(",")]
    latencies = [float(latency) for latency in args.latencies.split(",")]
    report = Report(
        "Backfill: a day of charges exported at Stripe's rate limit, against one page after another"
    )
    rows: list[list[object]] = []
    curve: dict[str, list[tuple[float, float]]] = {
        "paced (default settings)": [],
        "one page after another": [],
    }
    checks: list[tuple[str, bool, str]] = []
    incomplete: list[str] = []
    measured: dict[Any, Any] = {}
    with StripeEmulator(rate_limit=None, live_rate_limit=None) as emulator, stdout_to_file():
        for size in sorted(set(sizes) | {args.curve_size}):
            emulator.reset()
            created = [START + index * DAY // size for index in range(size)]
            charge = {"amount": 500, "currency": "usd", "source": "tok_visa"}
            emulator.create_objects("/v1/charges", charge, created)
            emulator.create_objects("/v1/charges", charge, created, livemode=True)
            for latency in latencies if size in sizes else []:
                for mode, limit in LIMITS.items():
                    paced = measure(emulator, size, "paced", mode, latency, measured)
                    rows.append(row(size, latency, limit, "paced", paced))
                    if not paced["complete"]:
                        incomplete.append(f"paced {size:,} at {latency:g} s, {limit}/s")
                    if size == 10_000 and latency in (0.2, 1.0) and limit == 25:
                        checks.append(
                            (
                                f"a day of 10,000 at {latency:g} s, 25/s: >= 60% of the limit, "
                                ">= 1,250 charges/s, <= 15% answered 429",
                                paced["answered"] / paced["seconds"] >= 15
                                and paced["objects"] / paced["seconds"] >= 1250
                                and paced["limited"] <= 0.15 * paced["requests"],
                                ", ".join(str(cell) for cell in rows[-1][5:9]),
                            )
                        )
                if size <= args.sequential_max:
                    sequential = measure(emulator, size, "sequential", "test", latency, measured)
                    rows.append(row(size, latency, 25, "one page after another", sequential))
                    if not sequential["complete"]:
                        incomplete.append(f"sequential {size:,} at {latency:g} s")
            if size == args.curve_size:
                for latency in (float(value) for value in args.curve.split(",")):
                    paced = measure(emulator, size, "paced", "test", latency, measured)
                    curve["paced (default settings)"].append((latency, paced["objects"] / paced["seconds"]))
                    sequential = measure(emulator, size, "sequential", "test", latency, measured)
                    curve["one page after another"].append(
                        (latency, sequential["objects"] / sequential["seconds"])
                    )
    report.table(
        [
            "charges",
            "answer s",
            "limit r/s",
            "export",
            "seconds",
            "requests/s (200)",
            "share of limit",
            "429s",
            "charges/s",
            "peak RSS growth MB",
        ],
        rows,
        caption="One export task in a fresh worker process; the emulator (this process) limits requests "
        "as Stripe does: 25 a second with the test key, 100 with the live key. 'one page after another' "
        "does not depend on the limit.",
    )
    report.table(
        ["answer s", *curve],
        [
            [f"{latency:g}", *(f"{points[index][1]:,.0f}" for points in curve.values())]
            for index, (latency, _) in enumerate(curve["paced (default settings)"])
        ],
        caption=f"The curve: charges a second, a day of {args.curve_size:,} charges, 25 requests/s.",
    )
    for target, met, measured in checks:
        report.verdict(target, met, measured)
    report.verdict(
        "every export wrote every charge of the day once",
        not incomplete,
        f"{len(rows)} rows; incomplete: {', '.join(incomplete) or 'none'}",
    )
    drawn = False if args.quick else draw(curve, 25, Path(args.png))
    where = Path(args.png).resolve().relative_to(ROOT) if drawn else "nowhere (--quick, or no matplotlib)"
    report.notes.append(f"The curve is drawn to {where}.")
    report.print()


if __name__ == "__main__":
    main()
