"""Change capture: requests per changed object, retrievals paced against one after another, and
memory for 100,000 changed objects.

    python benchmarks/change_capture.py                     # 100,000 changed objects for memory
    python benchmarks/change_capture.py --changes 20000     # fewer, on a busy machine
    python benchmarks/change_capture.py --quick             # 1,000: a smoke run

``StripeToObjectStorageOperator(capture="changes")`` over one data interval, against the emulator:

- requests: an in-process emulator holds 300 customers each changed 1 to 5 times (some deleted),
  counted in its log; the target is the pages of events (100 a page) plus one retrieval per
  changed object, plus the one request that reads Stripe's clock.
- retrieval speed: the same emulator, now with Stripe's limiter on (25 requests a second, as a
  sandbox) and every answer ``--latency`` late (0.2 s), exports the same interval twice in the same
  run: as the operator does (retrievals side by side, paced to the key's budget), and with one
  thread (one retrieval after another, as before). Both must write the same bytes.
- memory: the emulator runs in its own process, without a rate limit, seeded over HTTP with
  ``--changes`` new customers (one event each) plus 10% of them updated; a fresh measuring process
  per row exports a tenth of them and all of them at the largest budget (1,000 requests a second:
  128 threads, 256 retrievals held at most), and reports its peak RSS growth after a warm-up
  request (sampled every 5 ms). Constant memory means both rows grow alike, whatever the count.
- the id spill alone (no HTTP): the distinct ids of ``--changes`` and 10x ``--changes`` synthetic
  events noted and read back in order, in a fresh process each: peak RSS growth (SQLite's own
  allocations included).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchlib import EmulatorProcess, Report, isolated_airflow_home, stdout_to_file

TARGET_MB = 50.0
SPILL_TARGET_MB = 10.0
REQUEST_CUSTOMERS = 300
QUICK_REQUEST_CUSTOMERS = 100
#: Stripe's sandbox limit, read requests a second (https://docs.stripe.com/rate-limits).
LIMIT = 25
#: The share of the limit the paced retrievals must offer, and the most 429s among them.
TARGET_SHARE = 0.6
TARGET_LIMITED = 0.15


def _export(start: int, end: int, folder: str, requests_per_second: float | None = None) -> dict[str, Any]:
    from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

    operator = StripeToObjectStorageOperator(
        task_id="changes",
        resource="customers",
        path=f"file://{folder}/",
        capture="changes",
        lookback=0,
        requests_per_second=requests_per_second,
    )
    context: Any = {
        "data_interval_start": datetime.fromtimestamp(start, timezone.utc),
        "data_interval_end": datetime.fromtimestamp(end, timezone.utc),
    }
    manifest: dict[str, Any] = operator.execute(context)
    return manifest


class PeakRss:
    """The highest RSS of this process while the block runs, over its RSS when it starts, in MB.

    Sampled every 5 ms (``ru_maxrss`` would also count a peak reached earlier, while importing).
    """

    def __enter__(self) -> PeakRss:
        import psutil

        self._process = psutil.Process()
        self._before = self._peak = self._process.memory_info().rss
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()
        self._peak = max(self._peak, self._process.memory_info().rss)
        self.growth_mb = (self._peak - self._before) / 2**20


def one_interval(customers: int, latency: float) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """An in-process emulator: customers changed 1-5 times (a fifth deleted last); one export with
    the limiter lifted to count requests, then the paced and the one-after-another exports at
    ``latency`` a second under Stripe's sandbox limit."""
    import random

    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.testing import StripeEmulator

    rng = random.Random(21)
    with StripeEmulator(rate_limit=None) as emulator:
        os.environ.update(emulator.env())
        emulator.clock.freeze()
        start = emulator.clock.now()
        hook = StripeHook()
        events = 0
        for made in range(customers):
            customer = hook.customers.create({"name": f"c{made}"}).object
            changes = rng.randrange(1, 6)
            events += changes
            for change in range(changes - 1):
                hook.request("POST", f"/v1/customers/{customer['id']}", {"name": f"c{made}-{change}"})
            if rng.random() < 0.2:
                hook.request("DELETE", f"/v1/customers/{customer['id']}")
                events += 1
            emulator.clock.advance(rng.randrange(0, 2))
        emulator.clock.advance(1)
        end = emulator.clock.now()
        emulator.clear_log()
        with tempfile.TemporaryDirectory() as folder:
            manifest = _export(start, end, folder)
        counted = {
            "changed": manifest["objects"],
            "events": events,
            "event_pages": emulator.count("GET", "/v1/events"),
            "retrievals": emulator.count("GET", "/v1/customers/"),
            "total": len(emulator.requests),
        }
        emulator.rate_limit(LIMIT)
        emulator.latency = latency
        timed = {how: _timed_export(emulator, start, end, how) for how in ("paced", "one after another")}
    return counted, timed


def _timed_export(emulator: Any, start: int, end: int, how: str) -> dict[str, Any]:
    """The interval's export, paced (as the operator does) or with one thread (one retrieval after
    another); seconds, the retrievals as the emulator saw them, and the files' bytes."""
    from unittest import mock

    from airflow_provider_stripe.testing.requestlog import most_in_flight
    from airflow_provider_stripe.transfers.paced_requests import PacedRequests

    emulator.clear_log()
    with tempfile.TemporaryDirectory() as folder:
        one_thread = mock.patch.object(
            PacedRequests, "threads", new_callable=mock.PropertyMock, return_value=1
        )
        started = time.perf_counter()
        with one_thread if how != "paced" else nullcontext():
            manifest = _export(start, end, folder)
        seconds = time.perf_counter() - started
        files = {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}
    sent = [r for r in emulator.requests if r.method == "GET" and r.path.startswith("/v1/customers/")]
    received = sorted(r.received for r in sent)
    return {
        "objects": manifest["objects"],
        "seconds": seconds,
        "retrievals": len(sent),
        "limited": sum(r.status == 429 for r in sent),
        # Requests offered a second, from the emulator's stamps: the first retrieval to the last.
        "offered": (len(received) - 1) / max(received[-1] - received[0], 1e-9),
        "in_flight": most_in_flight(sent, emulator.latency),
        "files": files,
    }


def _seed(base_url: str, api_key: str, count: int, threads: int = 4) -> None:
    """``count`` customers over HTTP, and a tenth of them updated once."""
    import requests

    def work(slot: int) -> None:
        with requests.Session() as session:
            session.auth = (api_key, "")
            for made in range(slot, count, threads):
                answer = session.post(f"{base_url}/v1/customers", data={"name": f"c{made}"}, timeout=30)
                answer.raise_for_status()
                if made % 10 == 0:
                    customer_id = answer.json()["id"]
                    session.post(f"{base_url}/v1/customers/{customer_id}", data={"name": "u"}, timeout=30)

    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def child(start: int, end: int) -> dict[str, Any]:
    """In a fresh process: warm up, take the baseline RSS, export the interval's changes (the
    emulator has no rate limit here: the largest budget, so the most threads and retrievals held)."""
    from airflow_provider_stripe.hooks.stripe import StripeHook
    from airflow_provider_stripe.transfers.pacing import MAX_REQUESTS_PER_SECOND

    StripeHook().request("GET", "/v1/events", {"limit": 100})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, PeakRss() as peak:
        manifest = _export(start, end, folder, MAX_REQUESTS_PER_SECOND)
    return {
        "objects": manifest["objects"],
        "seconds": time.perf_counter() - started,
        "peak_growth_mb": peak.growth_mb,
    }


def spill(events: int) -> dict[str, Any]:
    """In a fresh process: ``events`` synthetic events (a distinct object each) noted and read back."""
    from airflow_provider_stripe.transfers.change_feeds import CHANGE_FEEDS
    from airflow_provider_stripe.transfers.changes import ChangedIds

    def synthetic() -> Iterator[dict[str, Any]]:
        for number in range(events):
            yield {"data": {"object": {"id": f"cus_{number:012d}", "object": "customer"}}}

    with tempfile.TemporaryDirectory() as folder, PeakRss() as peak:
        changed = ChangedIds(CHANGE_FEEDS["customers"], Path(folder))
        changed.note(synthetic(), newest_first=True)
        read = sum(1 for _ in changed.in_order())
        changed.close()
    if read != events:
        raise RuntimeError(f"read back {read} ids of {events}")
    return {"peak_growth_mb": peak.growth_mb}


def in_child(arguments: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, *arguments]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode:
        raise RuntimeError(f"{arguments} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=100_000, help="changed objects (%(default)s)")
    parser.add_argument("--latency", type=float, help="seconds an answer (0.2; --quick: 0.05)")
    parser.add_argument("--quick", action="store_true", help="1,000 changed objects: a smoke run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--end", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = 1_000 if args.quick else args.changes
    latency = args.latency if args.latency is not None else 0.05 if args.quick else 0.2

    isolated_airflow_home()
    if args.child or args.spill:
        with stdout_to_file():
            result = spill(args.spill) if args.spill else child(args.start, args.end)
        print(json.dumps(result))
        return

    report = Report(
        f"Change capture: requests per changed object, paced retrievals, and memory for {count:,} changes"
    )
    customers = QUICK_REQUEST_CUSTOMERS if args.quick else REQUEST_CUSTOMERS
    with stdout_to_file():
        counted, timed = one_interval(customers, latency)
    target = math.ceil(counted["events"] / 100) + counted["changed"] + 1
    report.table(
        ["changed objects", "events", "event pages", "retrievals", "requests", "per changed object"],
        [
            [
                counted["changed"],
                counted["events"],
                counted["event_pages"],
                counted["retrievals"],
                counted["total"],
                f"{counted['total'] / counted['changed']:.2f}",
            ]
        ],
        caption=f"{customers} customers changed 1 to 5 times each (a fifth deleted), one run "
        "over the interval; requests counted in the emulator's log.",
    )
    report.verdict(
        "requests per run = pages of events + one retrieval per changed object (+1 for Stripe's clock)",
        counted["total"] == target and counted["retrievals"] == counted["changed"],
        f"{counted['total']} = {counted['event_pages']} pages + {counted['retrievals']} retrievals + 1; "
        f"target {target}",
    )

    paced, serial = timed["paced"], timed["one after another"]
    report.table(
        [
            "retrievals",
            "how",
            "seconds",
            "retrievals/s",
            "share of the limit",
            "answered 429",
            "most in flight",
            "speed-up",
        ],
        [
            [
                r["objects"],
                how,
                f"{r['seconds']:.1f}",
                f"{r['offered']:.1f}",
                f"{r['offered'] / LIMIT:.0%}",
                f"{r['limited']} ({r['limited'] / max(1, r['retrievals']):.0%})",
                r["in_flight"],
                f"{serial['seconds'] / r['seconds']:.1f}x",
            ]
            for how, r in timed.items()
        ],
        caption=f"The same {customers} changed customers, each answer {latency:g} s late, Stripe's "
        f"sandbox limit of {LIMIT} requests a second on; the two exports one after the other in the "
        "same run. Retrievals a second and in flight from the emulator's log (when each request "
        "came in, 429s included); seconds: the whole task (event pages and writing included).",
    )
    report.verdict(
        f"paced retrievals offer at least {TARGET_SHARE:.0%} of the {LIMIT} requests/s limit, at most "
        f"{TARGET_LIMITED:.0%} answered 429, the same bytes as one after another",
        paced["offered"] >= TARGET_SHARE * LIMIT
        and paced["limited"] <= TARGET_LIMITED * paced["retrievals"]
        and paced["files"] == serial["files"],
        f"{paced['offered']:.1f} requests/s ({paced['offered'] / LIMIT:.0%}), {paced['limited']} answered "
        f"429, {serial['seconds'] / paced['seconds']:.1f}x faster; "
        f"files {'identical' if paced['files'] == serial['files'] else 'DIFFERENT'}",
    )

    tenth = max(1, count // 10)
    with EmulatorProcess() as emulator:
        start = int(time.time())
        seeded = time.perf_counter()
        _seed(emulator.base_url, emulator.api_key, tenth)
        middle = int(time.time()) + 1
        time.sleep(max(0.0, middle - time.time()))
        _seed(emulator.base_url, emulator.api_key, count - tenth)
        seed_seconds = time.perf_counter() - seeded
        end = int(time.time()) + 1
        time.sleep(max(0.0, end - time.time()))  # the interval has ended on Stripe's clock too
        env = {"AIRFLOW_CONN_STRIPE_DEFAULT": emulator.connection_json()}
        rows = {
            f"{size:,}": in_child(["--child", "--start", str(start), "--end", str(until)], env)
            for size, until in ((tenth, middle), (count, end))
        }
    report.table(
        ["changed objects", "exported", "peak RSS growth MB", "seconds", "objects/s"],
        [
            [
                label,
                f"{r['objects']:,}",
                f"{r['peak_growth_mb']:.1f}",
                f"{r['seconds']:.1f}",
                f"{r['objects'] / r['seconds']:,.0f}",
            ]
            for label, r in rows.items()
        ],
        caption=f"A fresh measuring process per row, the emulator in another; customers seeded over "
        f"HTTP in {seed_seconds:.0f} s (each created, a tenth also updated).",
    )
    spilled = {events: in_child(["--spill", str(events)])["peak_growth_mb"] for events in (count, 10 * count)}
    report.table(
        ["distinct changed ids", "peak RSS growth MB"],
        [[f"{events:,}", f"{peak:.1f}"] for events, peak in spilled.items()],
        caption="The id spill alone (SQLite file, 2 MiB page cache): synthetic events, no HTTP, a "
        "fresh process each.",
    )
    growth = rows[f"{count:,}"]["peak_growth_mb"]
    report.verdict(
        f"peak RSS growth while exporting {count:,} changed objects < {TARGET_MB:.0f} MB",
        growth < TARGET_MB and rows[f"{count:,}"]["objects"] == count,
        f"{growth:.1f} MB; {tenth:,} changed objects: {rows[f'{tenth:,}']['peak_growth_mb']:.1f} MB",
    )
    report.verdict(
        f"the id spill's memory stays under {SPILL_TARGET_MB:.0f} MB for {10 * count:,} distinct ids",
        spilled[10 * count] < SPILL_TARGET_MB,
        f"{spilled[count]:.1f} MB for {count:,}, {spilled[10 * count]:.1f} MB for {10 * count:,}",
    )
    report.print()


if __name__ == "__main__":
    main()
