"""DAG parse cost: what importing the provider's operators and sensors adds to a DAG file.

    python benchmarks/import_cost.py                       # this interpreter's Airflow, 7 runs
    python benchmarks/import_cost.py --python /path/to/af3/bin/python --python /path/to/af2/bin/python
    python benchmarks/import_cost.py --quick               # 1 run, fewer rows: a smoke run

Airflow parses DAG files constantly, so every millisecond a provider adds at import is paid again
and again. Each sample is a fresh interpreter that first imports Airflow's base (Airflow 3:
``import airflow.sdk``; Airflow 2: ``import airflow``, and a DAG file's usual header
``from airflow import DAG``), then times one more import in-process with ``time.perf_counter`` and
lists the modules it added. A second fresh interpreter repeats it under ``python -X importtime``,
whose per-module self times split the cost into the provider's own modules and the rest. The
baseline is the official SDK, ``import stripe``, in the same setup. Samples are interleaved;
medians are shown.

Bytecode: ``pip install`` compiles every module to bytecode, so that is how the main rows run
(``PYTHONPYCACHEPREFIX`` pointing at a private cache, warmed first). The last row of each base
removes the provider's bytecode, as an editable install under ``PYTHONDONTWRITEBYTECODE=1`` has it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import Report, environment, isolated_airflow_home, median, spread

TARGET_MS = 15.0
PROVIDER = "import airflow_provider_stripe.operators.stripe, airflow_provider_stripe.sensors.stripe"
PROVIDER_ROW = "provider operators + sensors"
SDK_ROW = "stripe (official SDK)"
SOURCE_ROW = "provider operators + sensors, provider compiled from source"
#: HTTP clients a DAG file should not have to load.
HTTP_CLIENTS = ("requests", "urllib3", "aiohttp", "httpx", "httpcore")
WARM_UP = "warm-up"
MARK = "@@benchmark-mark@@"
PROBE = f"""
import json, sys, time
started = time.perf_counter()
exec(sys.argv[1])
based = time.perf_counter()
before = set(sys.modules)
sys.stderr.write({MARK!r} + "\\n"); sys.stderr.flush()
exec(sys.argv[2])
done = time.perf_counter()
added = sorted(set(sys.modules) - before)
print(json.dumps({{"import_ms": (done - based) * 1e3, "added": added}}))
"""


@dataclass(frozen=True)
class Row:
    name: str
    statement: str
    provider_bytecode: bool = True
    importtime: bool = True


@dataclass
class Samples:
    import_ms: list[float] = field(default_factory=list)
    process_ms: list[float] = field(default_factory=list)
    provider_self_ms: list[float] = field(default_factory=list)
    other_self_ms: list[float] = field(default_factory=list)
    provider_in_base_ms: list[float] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


class BytecodeCache:
    """A private ``PYTHONPYCACHEPREFIX`` tree, warmed once; the provider's part can be hidden."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="stripe-bench-pycache-"))
        import airflow_provider_stripe

        package = Path(airflow_provider_stripe.__file__).resolve().parent
        self._provider = self.root / package.relative_to(package.anchor)
        self._hidden = self._provider.with_name(self._provider.name + ".hidden")

    def env(self, *, write: bool = False) -> dict[str, str]:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(self.root), "PYTHONDONTWRITEBYTECODE": "1"}
        if write:
            del env["PYTHONDONTWRITEBYTECODE"]
        return env

    @contextmanager
    def provider_hidden(self, hide: bool = True) -> Iterator[None]:
        """Without the provider's bytecode, as an editable install under PYTHONDONTWRITEBYTECODE=1."""
        if hide:
            self._provider.rename(self._hidden)
        try:
            yield
        finally:
            if hide:
                self._hidden.rename(self._provider)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def airflow_version(python: str) -> str:
    code = "from importlib.metadata import version; print(version('apache-airflow'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def bases(version: str) -> dict[str, str]:
    if int(version.split(".")[0]) >= 3:
        return {"import airflow.sdk": "import airflow.sdk"}
    return {"import airflow": "import airflow", "from airflow import DAG": "from airflow import DAG"}


def rows(quick: bool) -> list[Row]:
    if quick:
        return [Row(PROVIDER_ROW, PROVIDER, importtime=False), Row(SDK_ROW, "import stripe")]
    return [
        Row("nothing (the base alone)", "pass", importtime=False),
        Row(PROVIDER_ROW, PROVIDER),
        Row(SDK_ROW, "import stripe", importtime=False),
        Row(SOURCE_ROW, PROVIDER, provider_bytecode=False),
    ]


def probe(python: str, base: str, row: Row, cache: BytecodeCache, samples: Samples) -> None:
    """One fresh interpreter timing the import, then (if asked) one under -X importtime."""
    env = cache.env(write=row.name == WARM_UP)
    command = [python, "-W", "ignore", "-c", PROBE, base, row.statement]
    started = time.perf_counter()
    with cache.provider_hidden(not row.provider_bytecode):
        plain = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    samples.process_ms.append((time.perf_counter() - started) * 1e3)
    result = json.loads(plain.stdout.strip().splitlines()[-1])
    samples.import_ms.append(result["import_ms"])
    samples.added = result["added"]
    if not row.importtime:
        return

    with cache.provider_hidden(not row.provider_bytecode):
        traced = subprocess.run(
            [python, "-X", "importtime", *command[1:]], capture_output=True, text=True, check=True, env=env
        )
    in_base, provider, other, after_mark = 0.0, 0.0, 0.0, False
    for line in traced.stderr.splitlines():
        if line.strip() == MARK:
            after_mark = True
            continue
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, module = (part.strip() for part in line[len("import time:") :].split("|"))
        ms = float(self_us) / 1e3
        ours = module.startswith("airflow_provider_stripe")
        if not after_mark:
            in_base += ms if ours else 0.0
        elif ours:
            provider += ms
        else:
            other += ms
    samples.provider_self_ms.append(provider)
    samples.other_self_ms.append(other)
    samples.provider_in_base_ms.append(in_base)


def measure(python: str, base: str, plan: list[Row], runs: int, cache: BytecodeCache) -> dict[str, Samples]:
    warm = Row(WARM_UP, f"{PROVIDER}; import stripe", importtime=False)
    probe(python, base, warm, cache, Samples())  # fills the bytecode cache
    results = {row.name: Samples() for row in plan}
    for _ in range(runs):
        for row in plan:
            probe(python, base, row, cache, results[row.name])
    return results


def http_clients(modules: list[str]) -> list[str]:
    return sorted({name.split(".")[0] for name in modules if name.split(".")[0] in HTTP_CLIENTS})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per row (%(default)s)")
    parser.add_argument(
        "--python",
        action="append",
        help="an interpreter with Airflow and the provider installed (repeatable; default: this one)",
    )
    parser.add_argument("--quick", action="store_true", help="1 run, 2 rows, no importtime: a smoke run")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    pythons: list[str] = args.python or [sys.executable]
    plan = rows(args.quick)

    isolated_airflow_home()  # inherited by every probe
    report = Report("DAG parse cost: importing the provider's operators and sensors")
    if args.python:
        report.env = environment(with_airflow=False)
    table: list[list[object]] = []
    cache = BytecodeCache()
    try:
        for python in pythons:
            version = airflow_version(python)
            for base_name, base in bases(version).items():
                results = measure(python, base, plan, runs, cache)
                sdk = median(results[SDK_ROW].import_ms)
                for row in plan:
                    samples = results[row.name]
                    table.append(
                        [
                            f"Airflow {version}",
                            f"`{base_name}`",
                            row.name,
                            f"{median(samples.import_ms):.1f}",
                            spread(samples.import_ms),
                            f"{median(samples.import_ms) / sdk:.2f}x",
                            f"{median(samples.provider_self_ms):.1f}" if row.importtime else "-",
                            f"{median(samples.other_self_ms):.1f}" if row.importtime else "-",
                            len(samples.added),
                            ", ".join(http_clients(samples.added)) or "none",
                            f"{median(samples.process_ms):.0f}",
                        ]
                    )
                judge(report, f"Airflow {version}, after `{base_name}`", results[PROVIDER_ROW], runs)
                in_base = median(results[PROVIDER_ROW].provider_in_base_ms)
                if in_base > 0:
                    report.notes.append(
                        f"Airflow {version}: `{base_name}` itself imports {in_base:.1f} ms (importtime "
                        "self, median) of this provider: Airflow's provider discovery loads "
                        "`get_provider_info` and the connection form whenever the provider is installed."
                    )
    finally:
        cache.close()
    report.table(
        [
            "Airflow",
            "base already imported",
            "then import",
            "added ms (median)",
            "min-max ms",
            "vs import stripe",
            "provider modules ms (importtime self)",
            "other modules ms (importtime self)",
            "modules added",
            "HTTP clients newly imported",
            "whole process ms",
        ],
        table,
        caption=f"A fresh interpreter per sample, {runs} sample(s) per row, interleaved. 'added' is "
        "perf_counter around the import; the importtime columns (which inflate times a little) split "
        "it between the provider's modules and the others it pulls in.",
    )
    report.notes.append(
        "'whole process' is the plain interpreter's wall time (start-up, base, import), for scale: "
        "the base dominates, and its run-to-run spread is larger than the provider's cost."
    )
    report.print()


def judge(report: Report, where: str, provider: Samples, runs: int) -> None:
    added = median(provider.import_ms)
    split = ""
    if provider.provider_self_ms:
        split = (
            f"; -X importtime: the provider's own modules {median(provider.provider_self_ms):.1f} ms, "
            f"other modules they pull in {median(provider.other_self_ms):.1f} ms"
        )
    report.verdict(
        f"{where}: the provider adds <= {TARGET_MS:.0f} ms",
        added <= TARGET_MS,
        f"{added:.1f} ms, median of {runs}{split}",
    )
    clients = http_clients(provider.added)
    report.verdict(
        f"{where}: no requests / aiohttp / httpx imported",
        not clients,
        ", ".join(clients) or "none newly imported",
    )


if __name__ == "__main__":
    main()
