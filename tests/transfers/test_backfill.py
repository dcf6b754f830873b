"""A day of 10,000 charges exported by one task with default settings, at Stripe's rate limit.

The emulator's limiter is ON here (these tests are about traffic): 25 requests a second as a Stripe
sandbox (https://docs.stripe.com/rate-limits), 429 ``rate_limit`` above it, and every answer
delayed as Stripe's list answers are (0.2 to 1 s). Faults are keyed to requests, never to time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.testing.requestlog import most_in_flight
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.dag_runs import run_dag
from tests.transfers.conftest import export_dag, folder_bytes, read_lines

D0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
D1 = D0 + timedelta(days=1)
CHARGES = 10_000
LIMIT = 25
DAILY = 'CronDataIntervalTimetable("@daily", timezone="UTC")'
ROOT = Path(__file__).resolve().parents[2]


def seed_day(stripe: StripeEmulator, count: int = CHARGES) -> list[str]:
    """``count`` charges spread evenly over the day D0, made fast (no HTTP)."""
    start = int(D0.timestamp())
    created = [start + index * 86_400 // count for index in range(count)]
    return stripe.create_objects(
        "/v1/charges", {"amount": 500, "currency": "usd", "source": "tok_visa"}, created
    )


def export_worker(path: str, **operator: Any) -> subprocess.Popen[str]:
    """The export of the day D0 by one task with ``operator`` settings, in a worker process of its
    own (as on an Airflow worker: the emulator, in this process, does not share its interpreter).
    It prints the seconds the task took."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in operator.items())
    script = (
        "import time\n"
        "from datetime import datetime, timezone\n"
        "from airflow_provider_stripe.transfers.stripe_to_object_storage import (\n"
        "    StripeToObjectStorageOperator as Export,\n"
        ")\n"
        f"operator = Export(task_id='export', resource='charges', path={path!r}, {arguments})\n"
        "started = time.monotonic()\n"
        f"operator.execute({{'data_interval_start': datetime.fromtimestamp({D0.timestamp()}, timezone.utc),"
        f" 'data_interval_end': datetime.fromtimestamp({D1.timestamp()}, timezone.utc)}})\n"
        "print('SECONDS', time.monotonic() - started)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)


def task_seconds(worker: subprocess.Popen[str]) -> float:
    out, _ = worker.communicate(timeout=600)
    assert worker.returncode == 0, out[-3000:]
    return float(out.rsplit("SECONDS", 1)[1])


def listing(stripe: StripeEmulator) -> list[Any]:
    return [r for r in stripe.requests if r.method == "GET" and r.path == "/v1/charges"]


def assert_exactly_once(folder: Path, ids: list[str]) -> None:
    exported = [obj["id"] for obj in read_lines(folder)]
    assert Counter(exported).most_common(1)[0][1] == 1
    assert sorted(exported) == sorted(ids)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {child.name for child in folder.iterdir()} == {part["name"] for part in manifest["parts"]} | {
        "manifest.json"
    }


def test_one_task_with_defaults_keeps_the_limits_requests_in_flight(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    """The export keeps many requests in flight at once, never above the limit, in full pages,
    each charge once.

    With 1 s answers, a serial export has one request in flight, and 25 requests a second need 25
    in flight: the test asserts at least 5 at once, measured on the emulator's own log (when each
    request came in, ``received``). It asserts no share of the limit in requests a second: a page
    costs about 14 ms of CPU (parsing and writing 100 charges, the emulator's serializing them),
    so on a busy machine that figure measures the machine's load as much as the export (a
    fresh-clone run under two CPU hogs and two suites offered 10 a second). The share is
    ``benchmarks/backfill.py``'s to measure, on a machine it has to itself.
    """
    ids = seed_day(stripe_env)
    stripe_env.rate_limit(LIMIT)
    latency = 1.0
    stripe_env.latency = latency
    task_seconds(export_worker(f"file://{tmp_path}/"))
    manifest = json.loads((tmp_path / "manifest.json").read_text())

    requests = listing(stripe_env)
    answered = [r for r in requests if r.status == 200]
    limited = [r for r in requests if r.status == 429]
    assert manifest["objects"] == CHARGES
    assert_exactly_once(tmp_path, ids)
    assert most_in_flight(requests, latency) >= 5
    assert CHARGES / len(answered) >= 50  # full pages: half the limit's objects a request, at least
    assert len(limited) <= 0.15 * len(requests)  # paced at the limit, not pushed past it
    assert len(manifest["parts"]) > 1  # sliced: one part series per slice


def test_faults_mid_slice_and_a_rerun_are_exactly_once_and_byte_identical(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    ids = seed_day(stripe_env)
    stripe_env.rate_limit(LIMIT)
    stripe_env.latency = 0.2
    dag = export_dag(
        "backfill_faults",
        DAILY,
        resource="charges",
        path=f"file://{tmp_path}/{{{{ data_interval_start | ds }}}}/",
    )
    # After the sizing page and a few pages: 500s, then dropped connections, in the middle of slices.
    stripe_env.fail_next(3, status=500, after=20)
    stripe_env.fail_next(2, status="drop", after=15)
    result = run_dag(dag, D1)
    assert result.task_states[("export", -1)] == "success"
    statuses = Counter(r.status for r in listing(stripe_env))
    assert statuses[500] == 3
    assert statuses[0] == 2  # dropped
    folder = tmp_path / D0.strftime("%Y-%m-%d")
    assert_exactly_once(folder, ids)

    before = folder_bytes(folder)
    run_dag(dag, D1)
    assert folder_bytes(folder) == before


def test_a_worker_killed_mid_export_and_the_retry_leave_each_charge_once(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    ids = seed_day(stripe_env)
    stripe_env.rate_limit(LIMIT)
    stripe_env.latency = 0.2
    path = f"file://{tmp_path}/"
    worker = export_worker(path)
    try:
        deadline = time.monotonic() + 120
        while len(listing(stripe_env)) < 40:  # killed after 40 list requests, wherever that is in time
            assert worker.poll() is None, "the export ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait()
    assert not (tmp_path / "manifest.json").exists()
    assert any(child.name.startswith("part-") for child in tmp_path.iterdir())

    operator = StripeToObjectStorageOperator(task_id="export", resource="charges", path=path)
    manifest = operator.execute({"data_interval_start": D0, "data_interval_end": D1})  # type: ignore[arg-type]
    assert manifest["objects"] == CHARGES
    assert_exactly_once(tmp_path, ids)


def test_a_lower_budget_is_kept_and_a_bad_one_is_refused_before_any_request(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    seed_day(stripe_env, 2_000)
    stripe_env.rate_limit(LIMIT)
    elapsed = task_seconds(export_worker(f"file://{tmp_path}/", requests_per_second=5))
    requests = listing(stripe_env)
    assert len(requests) > 10  # sliced
    assert (len(requests) - 1) / elapsed <= 5  # the lookback check, then paced requests
    assert all(r.status == 200 for r in requests)

    stripe_env.clear_log()
    from airflow_provider_stripe.exceptions import StripeValidationError

    with pytest.raises(StripeValidationError, match="requests_per_second"):
        StripeToObjectStorageOperator(
            task_id="bad", resource="charges", path=f"file://{tmp_path}/", requests_per_second=0
        )
    assert stripe_env.requests == []


def sdk_listing(stripe: StripeEmulator, created: dict[str, int] | None = None) -> list[str]:
    """The charges' ids as the official SDK walks the list: newest first, the independent order."""
    import stripe as stripe_sdk

    client = stripe_sdk.StripeClient(
        stripe.api_key, base_addresses={"api": stripe.base_url}, max_network_retries=0
    )
    params: Any = {"limit": 100, **({"created": created} if created else {})}
    return [charge.id for charge in client.v1.charges.list(params).auto_paging_iter()]


def test_a_day_of_uneven_density_is_cut_again_where_it_is_dense(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    """4,000 charges in the day's first hour, a burst of 150 in one second, 300 over the rest: the
    first pages see only the sparse end of the day, so the walk goes on page after page (a few
    hundred objects are not worth cutting) until a page shows the dense hour, which is then cut into
    slices listed side by side. Every charge once, in the order of the SDK's walk over the day, in
    nearly full pages."""
    start = int(D0.timestamp())
    created = [start + index * 3_600 // 4_000 for index in range(4_000)]
    created += [start + 40_000] * 150 + [start + 3_600 + index * 82_800 // 300 for index in range(300)]
    stripe_env.create_objects(
        "/v1/charges", {"amount": 500, "currency": "usd", "source": "tok_visa"}, created
    )
    stripe_env.rate_limit(LIMIT)
    stripe_env.latency = 0.1
    operator = StripeToObjectStorageOperator(task_id="export", resource="charges", path=f"file://{tmp_path}/")
    manifest = operator.execute({"data_interval_start": D0, "data_interval_end": D1})  # type: ignore[arg-type]

    exported = [obj["id"] for obj in read_lines(tmp_path)]
    requests = listing(stripe_env)
    stripe_env.rate_limit(None)
    assert exported == sdk_listing(stripe_env, {"gte": start, "lt": start + 86_400})
    assert manifest["objects"] == len(created)
    assert any(part["name"].count("-") >= 2 for part in manifest["parts"])  # the dense rest cut
    assert most_in_flight(requests, 0.1) >= 3
    answered = [r for r in requests if r.status == 200]
    assert len(exported) / len(answered) >= 50  # pages at least half full on average


def test_a_snapshot_is_sliced_back_to_the_lists_oldest_object(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    """``window="all"`` has no lower bound: the rest below the newest page is cut into slices that
    double toward the past, the oldest open. Charges over ten years, most of them in the last week:
    every one once, in the SDK's order, listed side by side, the first page also Stripe's clock."""
    now = int(stripe_env.clock.time())
    created = [now - 10 * 365 * 86_400 + index * 86_400 for index in range(0, 3_650, 5)]  # ten years
    created += [now - 7 * 86_400 + index * 120 for index in range(5_000)]  # the last week
    stripe_env.create_objects(
        "/v1/charges", {"amount": 500, "currency": "usd", "source": "tok_visa"}, created
    )
    stripe_env.rate_limit(LIMIT)
    latency = 0.2
    stripe_env.latency = latency
    operator = StripeToObjectStorageOperator(
        task_id="snapshot", resource="charges", path=f"file://{tmp_path}/", window="all"
    )
    manifest = operator.execute({})  # type: ignore[arg-type]

    exported = [obj["id"] for obj in read_lines(tmp_path)]
    requests = listing(stripe_env)
    assert len(stripe_env.requests) == len(requests)  # the list's pages, the first also the clock
    stripe_env.rate_limit(None)
    assert exported == sdk_listing(stripe_env)
    assert manifest["window"]["listed_from"] >= now
    assert most_in_flight(requests, latency) >= 5
    pages = -(-len(created) // 100)
    assert len([r for r in requests if r.status == 200]) <= pages + 40  # the doubling slices' cost


def test_an_incremental_runs_backlog_is_listed_in_slices_then_polled(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    """A first incremental run two days behind lists the settled backlog in paced slices, then polls
    the last minute (the lookback) with the cursor; the next run, an hour later, only polls. Across
    both, every charge once."""
    now = int(stripe_env.clock.time())
    backlog = [now - 2 * 86_400 + index * 50 for index in range(3_000)]  # up to 8 hours ago
    charge = {"amount": 500, "currency": "usd", "source": "tok_visa"}
    ids = stripe_env.create_objects("/v1/charges", charge, backlog)
    ids += stripe_env.create_objects("/v1/charges", charge, [now - 20, now - 10])  # the last minute
    stripe_env.rate_limit(LIMIT)
    stripe_env.latency = 0.1
    dag = export_dag(
        "incremental_backlog",
        "None",
        resource="charges",
        window="incremental",
        lookback=60,
        path=f"file://{tmp_path}/{{{{ ts_nodash }}}}/",
    )
    first_run = datetime.fromtimestamp(now - 2 * 86_400, timezone.utc)
    assert run_dag(dag, first_run).task_states[("export", -1)] == "success"
    first = tmp_path / first_run.strftime("%Y%m%dT%H%M%S")
    requests = listing(stripe_env)
    assert sorted(obj["id"] for obj in read_lines(first)) == sorted(ids)
    names = [part["name"] for part in json.loads((first / "manifest.json").read_text())["parts"]]
    assert any(name.count("-") >= 2 for name in names)  # the backlog, sliced
    assert most_in_flight(requests, 0.1) >= 3
    assert len(requests) <= 3_000 // 100 + 10

    stripe_env.clear_log()
    later = stripe_env.create_objects("/v1/charges", charge, [now - 5, now])
    second_run = datetime.fromtimestamp(now - 86_400, timezone.utc)
    assert run_dag(dag, second_run).task_states[("export", -1)] == "success"
    second = tmp_path / second_run.strftime("%Y%m%dT%H%M%S")
    assert sorted(obj["id"] for obj in read_lines(second)) == sorted(later)
    assert len(listing(stripe_env)) <= 2  # polled from the cursor: no backlog
