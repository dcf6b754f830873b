"""What one Stripe call through the provider's hook costs, against a bare ``requests.Session`` and the
official ``stripe`` SDK doing the same request to the same local emulator.

    python benchmarks/request_overhead.py              # 500 calls per client and request
    python benchmarks/request_overhead.py --quick      # 100 calls, a smoke run

The emulator runs in its own process (as Stripe would), so each client's cost is its own CPU time
plus the same server round trip. All clients keep one connection alive. Calls are interleaved in
blocks of 25, client order shuffled per round, so that machine noise hits every client alike; each
call is timed on its own and the table shows medians. Requests: ``GET /v1/balance`` and a small
create, ``POST /v1/customers`` with an idempotency key (the hook and the SDK add one to every POST).
The hook writes its one log line per request (Airflow's logging config, stdout sent to a file, as
in a task). Two more rows split the hook's cost: the hook with that line switched off (logger at
WARNING), and the bare session followed by the same log line. The bare session is requests'
default (``trust_env``: it reads the proxy environment and ``.netrc`` again on every request); the
hook resolves the proxy environment once, when it builds its session. Target: the hook, log line
included, costs no more than the bare session (1.00x).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from benchlib import EmulatorProcess, Report, isolated_airflow_home, median, percentile, stdout_to_file

Call = Callable[[], Any]
BLOCK = 25
TARGET_VS_REQUESTS = 1.00
PROVIDER_LOGGER = "airflow_provider_stripe"
BARE = "requests.Session (bare)"
HOOK = "StripeHook.request"
SDK = "stripe SDK (StripeClient)"
HOOK_QUIET = "StripeHook.request, log line off"
BARE_LOGGED = "requests.Session + the hook's log line"


def clients(emulator: EmulatorProcess, method: str) -> dict[str, tuple[Call, bool]]:
    """Per client row: one call, and whether the provider's log line is off during its blocks."""
    import requests
    import stripe

    from airflow_provider_stripe.api.defaults import DEFAULT_STRIPE_VERSION
    from airflow_provider_stripe.hooks.stripe import StripeHook

    session = requests.Session()
    session.auth = (emulator.api_key, "")
    session.headers.update({"Stripe-Version": DEFAULT_STRIPE_VERSION, "Accept": "application/json"})
    hook = StripeHook("stripe_bench")
    sdk = stripe.StripeClient(
        emulator.api_key, base_addresses={"api": emulator.base_url}, stripe_version=DEFAULT_STRIPE_VERSION
    )
    customer = {"email": "bench@example.com"}

    def bare() -> Any:
        if method == "GET":
            response = session.get(f"{emulator.base_url}/v1/balance", timeout=30)
        else:
            response = session.post(
                f"{emulator.base_url}/v1/customers",
                data=customer,
                headers={"Idempotency-Key": str(uuid.uuid4())},
                timeout=30,
            )
        response.raise_for_status()
        return response.json()

    provider_log = logging.getLogger(PROVIDER_LOGGER)

    def bare_logged() -> Any:
        started = time.monotonic()
        answer = bare()
        provider_log.info(
            "Stripe %s %s -> %s%s request_id=%s %.0f ms (%s mode, %s key)",
            method,
            "/v1/balance" if method == "GET" else "/v1/customers",
            200,
            "",
            "req_bench",
            (time.monotonic() - started) * 1000,
            "test",
            "secret",
        )
        return answer

    def through_hook() -> Any:
        if method == "GET":
            return hook.request("GET", "/v1/balance")
        return hook.request("POST", "/v1/customers", customer)

    def through_sdk() -> Any:
        if method == "GET":
            return sdk.v1.balance.retrieve()
        return sdk.v1.customers.create(params={"email": "bench@example.com"})

    return {
        BARE: (bare, False),
        HOOK: (through_hook, False),
        SDK: (through_sdk, False),
        HOOK_QUIET: (through_hook, True),
        BARE_LOGGED: (bare_logged, False),
    }


def measure(calls: dict[str, tuple[Call, bool]], count: int) -> dict[str, list[float]]:
    """Per client, ``count`` single-call timings in seconds, interleaved in shuffled blocks."""
    provider_log = logging.getLogger(PROVIDER_LOGGER)
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for call, _ in calls.values():  # warm-up: connection lookup, keep-alive sockets, caches
        for _ in range(5):
            call()
    order = list(calls)
    rng = random.Random(7)
    for _ in range(-(-count // BLOCK)):
        rng.shuffle(order)
        for name in order:
            call, quiet = calls[name]
            provider_log.setLevel(logging.WARNING if quiet else logging.NOTSET)
            samples = timings[name]
            for _ in range(min(BLOCK, count - len(samples))):
                started = time.perf_counter()
                call()
                samples.append(time.perf_counter() - started)
    provider_log.setLevel(logging.NOTSET)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=500, help="calls per client and request (%(default)s)")
    parser.add_argument("--quick", action="store_true", help="100 calls: a smoke run")
    args = parser.parse_args()
    count = 100 if args.quick else args.calls

    isolated_airflow_home()
    report = Report("Request overhead: one call through StripeHook vs requests and the stripe SDK")
    with EmulatorProcess() as emulator, stdout_to_file():
        os.environ["AIRFLOW_CONN_STRIPE_BENCH"] = emulator.connection_json()
        results = {method: measure(clients(emulator, method), count) for method in ("GET", "POST")}

    rows: list[list[object]] = []
    for method, timings in results.items():
        request = "GET /v1/balance" if method == "GET" else "POST /v1/customers"
        bare = median(timings[BARE])
        sdk = median(timings[SDK])
        for name, samples in timings.items():
            mid = median(samples)
            rows.append(
                [
                    request,
                    name,
                    len(samples),
                    f"{mid * 1e6:.0f}",
                    f"{percentile(samples, 90) * 1e6:.0f}",
                    f"{mid / bare:.2f}x",
                    f"{mid / sdk:.2f}x",
                ]
            )
        hook = median(timings[HOOK])
        report.verdict(
            f"{request}: hook <= {TARGET_VS_REQUESTS:.2f}x bare requests",
            hook / bare <= TARGET_VS_REQUESTS,
            f"{hook / bare:.2f}x ({hook * 1e6:.0f} vs {bare * 1e6:.0f} µs)",
        )
        report.verdict(
            f"{request}: hook < stripe SDK",
            hook < sdk,
            f"{hook / sdk:.2f}x ({hook * 1e6:.0f} vs {sdk * 1e6:.0f} µs)",
        )
    report.table(
        ["request", "client", "calls", "median µs", "p90 µs", "vs requests", "vs stripe SDK"],
        rows,
        caption=f"Emulator in another process, keep-alive, {count} calls per row, interleaved in blocks "
        f"of {BLOCK}.",
    )
    report.notes.append(
        "The round trip to a local emulator is far shorter than to api.stripe.com (tens to hundreds "
        "of ms), so these ratios show the clients' own CPU cost at its most visible."
    )
    report.print()


if __name__ == "__main__":
    main()
