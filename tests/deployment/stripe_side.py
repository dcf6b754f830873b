"""The Stripe side of a deployment test: objects made by a well-behaved client, another integration
spending the account's rate budget, and the batches the sensors wait for."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

import requests

from airflow_provider_stripe.testing import StripeEmulator


def post(stripe: StripeEmulator, path: str, data: dict[str, Any]) -> str:
    """Create an object as any well-behaved client would: retry 429s with the same idempotency key."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    for _ in range(200):
        response = requests.post(
            f"{stripe.base_url}{path}", data=data, headers=headers, auth=(stripe.api_key, ""), timeout=10
        )
        if response.status_code != 429:
            response.raise_for_status()
            return str(response.json()["id"])
        time.sleep(0.1)
    raise AssertionError(f"POST {path} was rate-limited 200 times in a row")


class OtherTraffic(threading.Thread):
    """Another integration on the same Stripe account: ``GET /v1/balance`` at a steady rate."""

    def __init__(self, stripe: StripeEmulator, per_second: float) -> None:
        super().__init__(name="other-traffic", daemon=True)
        self.stripe = stripe
        self.interval = 1 / per_second
        self.stopping = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            due = time.monotonic()
            while not self.stopping.is_set():
                session.get(f"{self.stripe.base_url}/v1/balance", auth=(self.stripe.api_key, ""), timeout=10)
                due += self.interval
                self.stopping.wait(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def polled(stripe: StripeEmulator, path: str, name: str, value: str) -> bool:
    return any(
        r.method == "GET" and r.path == path and r.status == 200 and r.query.get(name) == value
        for r in stripe.requests
    )


def create_sensor_batches(stripe: StripeEmulator, ids: dict[str, str]) -> dict[str, list[str]]:
    """What each sensor waits for, visible in Stripe's lists at one instant (so that no poll sees a
    part of it): created on a stopped clock, each with half a second of visibility delay, then shown
    by the clock moving on: back to real time, or, if the test had stopped it, one second on."""
    stopped = stripe.clock.frozen
    stripe.clock.freeze()
    stripe.visibility_delay = 0.5
    try:

        def charge(customer: str) -> str:
            return post(stripe, "/v1/charges", {"amount": 1200, "currency": "usd", "customer": customer})

        def refund(charge_id: str) -> str:
            return post(stripe, "/v1/refunds", {"charge": charge_id, "amount": 700})

        return {
            "charges_of_a": [charge(ids["cus_a"]) for _ in range(3)],
            "charges_of_b": [charge(ids["cus_b"]) for _ in range(2)],
            "refunds_of_1": [refund(ids["ch_1"]) for _ in range(2)],
            "refunds_of_2": [refund(ids["ch_2"])],
        }
    finally:
        stripe.visibility_delay = 0
        if stopped:
            stripe.clock.advance(1.0)
        else:
            stripe.clock.reset()


def create_sensor_targets(stripe: StripeEmulator) -> dict[str, str]:
    """The objects the sensors filter on: customers A and B (with a card), charges 1 and 2."""
    return {
        "cus_a": post(stripe, "/v1/customers", {"name": "A", "source": "tok_visa"}),
        "cus_b": post(stripe, "/v1/customers", {"name": "B", "source": "tok_visa"}),
        "ch_1": post(stripe, "/v1/charges", {"amount": 5000, "currency": "usd", "source": "tok_visa"}),
        "ch_2": post(stripe, "/v1/charges", {"amount": 5000, "currency": "usd", "source": "tok_visa"}),
    }


#: What each sensor of the deployment tests lists, filtered how: (path, query parameter, object key).
SENSOR_FILTERS = {
    "charges_of_a": ("/v1/charges", "customer", "cus_a"),
    "charges_of_b": ("/v1/charges", "customer", "cus_b"),
    "refunds_of_1": ("/v1/refunds", "charge", "ch_1"),
    "refunds_of_2": ("/v1/refunds", "charge", "ch_2"),
}


def sensors_polled(stripe: StripeEmulator, sensors: Iterable[str], ids: dict[str, str]) -> bool:
    """Whether each of ``sensors`` has listed its objects at least once (``ids``: the objects' ids)."""
    return all(
        polled(stripe, path, name, ids[key])
        for path, name, key in (SENSOR_FILTERS[sensor] for sensor in sensors)
    )
