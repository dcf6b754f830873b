"""Run every benchmark, one after the other, and print their tables as one Markdown document.

    python benchmarks/run_all.py                   # the full run behind docs/benchmarks.md (~10 min)
    python benchmarks/run_all.py --quick           # a smoke run of each (under a minute)
    python benchmarks/run_all.py --only latency --only polling_cost
    python benchmarks/run_all.py --import-python /af3/bin/python --import-python /af2/bin/python

Each benchmark runs in its own process with this interpreter (so with this interpreter's Airflow),
never two at once: they measure time and CPU on a machine that may be shared. ``--import-python``
hands interpreters to ``import_cost.py``, to compare Airflow versions in one table.
Exit status: non-zero if any benchmark failed (its error output is shown in the document).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchlib import BENCHMARKS, command_line, environment

#: In the order of docs/benchmarks.md: what a DAG author feels first.
BENCHMARKS_IN_ORDER = (
    "import_cost",
    "request_overhead",
    "polling_cost",
    "memory",
    "deferrable_capacity",
    "latency",
    "change_feed_cost",
    "backfill",
    "change_capture",
)
#: The emulator's own throughput (plain text, not a table): shown as a code block.
EMULATOR = "emulator_throughput"


def run(name: str, arguments: list[str]) -> tuple[int, str, float]:
    command = [sys.executable, str(BENCHMARKS / f"{name}.py"), *arguments]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        shown = " ".join(["python", f"benchmarks/{name}.py", *arguments])
        return (
            done.returncode,
            f"### {name}: FAILED\n\n`{shown}`\n\n```\n{done.stderr[-4000:]}\n```\n",
            seconds,
        )
    if name == EMULATOR:
        shown = " ".join(["python", f"benchmarks/{name}.py", *arguments])
        return 0, f"### Emulator throughput\n\n`{shown}`\n\n```\n{done.stdout.strip()}\n```\n", seconds
    return 0, done.stdout, seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="each benchmark's smoke run")
    parser.add_argument(
        "--only", action="append", choices=[*BENCHMARKS_IN_ORDER, EMULATOR], help="run only these"
    )
    parser.add_argument(
        "--import-python", action="append", default=[], help="interpreters for import_cost.py (repeatable)"
    )
    parser.add_argument("--output", type=Path, help="also write the document to this file")
    args = parser.parse_args()

    names = args.only or [*BENCHMARKS_IN_ORDER, EMULATOR]
    parts = [
        "## Benchmarks",
        f"`{command_line()}` on {environment()}.",
    ]
    failed = []
    for name in names:
        arguments = ["--quick"] if args.quick and name != EMULATOR else []
        if name == EMULATOR and args.quick:
            arguments = ["--count", "200"]
        if name == "import_cost":
            arguments += [f"--python={python}" for python in args.import_python]
        print(f"running {name} {' '.join(arguments)}".rstrip(), file=sys.stderr, flush=True)
        status, text, seconds = run(name, arguments)
        print(
            f"  {name}: {'ok' if status == 0 else 'FAILED'} in {seconds:.0f} s", file=sys.stderr, flush=True
        )
        if status:
            failed.append(name)
        parts.append(text.strip())
    document = "\n\n".join(parts) + "\n"
    print(document)
    if args.output:
        args.output.write_text(document)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
