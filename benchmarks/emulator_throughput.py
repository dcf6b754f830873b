"""How fast the local Stripe emulator is over real HTTP: N charge creates, then a full listing.

    python benchmarks/emulator_throughput.py                # 1,000 charges
    python benchmarks/emulator_throughput.py --count 10000  # shows a page still costs about the same

Two clients are measured: a keep-alive ``requests`` session (what the provider's hook uses) and the
official ``stripe`` SDK. The listing walks every charge, 100 per page, newest first.
"""

from __future__ import annotations

import argparse
import time

import requests
import stripe

from airflow_provider_stripe.testing import StripeEmulator


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000, help="charges to create (default: %(default)s)")
    args = parser.parse_args()
    count: int = args.count

    with StripeEmulator(rate_limit=None) as emulator:
        started = time.perf_counter()
        with requests.Session() as session:
            session.auth = (emulator.api_key, "")
            for index in range(count):
                response = session.post(
                    f"{emulator.base_url}/v1/charges",
                    data={"amount": 100 + index, "currency": "usd", "source": "tok_visa"},
                    headers={"Idempotency-Key": f"bench-{index}"},
                    timeout=10,
                )
                response.raise_for_status()
            created = time.perf_counter() - started

            started = time.perf_counter()
            listed, params = 0, {"limit": "100"}
            while True:
                page = session.get(f"{emulator.base_url}/v1/charges", params=params, timeout=10).json()
                listed += len(page["data"])
                if not page["has_more"]:
                    break
                params["starting_after"] = page["data"][-1]["id"]
            listed_in = time.perf_counter() - started
        assert listed == count, (listed, count)

        client = stripe.StripeClient(emulator.api_key, base_addresses={"api": emulator.base_url})
        started = time.perf_counter()
        sdk_listed = sum(1 for _ in client.v1.charges.list(params={"limit": 100}).auto_paging_iter())
        sdk_listed_in = time.perf_counter() - started
        assert sdk_listed == count

        started = time.perf_counter()
        sdk_creates = min(count, 200)
        for _ in range(sdk_creates):
            client.v1.customers.create(params={"email": "bench@example.com"})
        sdk_created = time.perf_counter() - started

    pages = -(-count // 100)
    rows = [
        (f"{count} charge creates (requests, keep-alive)", created, f"{created / count * 1000:.2f} ms each"),
        (
            f"full listing, {pages} pages of 100 (requests)",
            listed_in,
            f"{listed_in / pages * 1000:.1f} ms/page",
        ),
        ("full listing via stripe SDK auto_paging_iter", sdk_listed_in, ""),
        (f"{count} creates + full listing (requests)", created + listed_in, ""),
        (
            f"{sdk_creates} customer creates via stripe SDK",
            sdk_created,
            f"{sdk_created / sdk_creates * 1000:.2f} ms each",
        ),
    ]
    for label, seconds, detail in rows:
        print(f"{label:<48} {seconds:6.2f} s  {detail}".rstrip())


if __name__ == "__main__":
    main()
