"""Each benchmark's quick mode runs to the end and prints its Markdown table (timings not judged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
QUICK = [
    "import_cost",
    "request_overhead",
    "polling_cost",
    "memory",
    "deferrable_capacity",
    "latency",
    "change_feed_cost",
    "backfill",
    "change_capture",
]


#: A deadline for a hang, not a speed bound: a smoke run takes 10-60 s on an idle 2-core machine,
#: and the change capture's took over 180 s under a CPU hog with two test suites beside it.
SMOKE_DEADLINE_SECONDS = 1200


@pytest.mark.parametrize("name", QUICK)
def test_quick_mode_prints_a_table(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=SMOKE_DEADLINE_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("### "), done.stdout
    assert any(line.startswith("|---") for line in lines), done.stdout
    assert f"`python benchmarks/{name}.py --quick`" in done.stdout
    assert "Targets:" in done.stdout


def test_run_all_lists_every_benchmark() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert set(run_all.BENCHMARKS_IN_ORDER) == set(QUICK)
