"""The change capture retrieves its changed objects side by side, at Stripe's rate limit, in order.

The emulator's limiter is ON here (these tests are about traffic): 25 read requests a second, as a
Stripe sandbox (https://docs.stripe.com/rate-limits, 429 ``rate_limit`` above it), every answer
delayed as Stripe's are. Products are the list: a deleted product is "No such product" afterwards
(Stripe's "Delete a product"), so the 404 -> stub rule is met among the concurrent retrievals.
Faults are keyed to requests; overlap and pace are read from the emulator's ``received`` stamps.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from airflow_provider_stripe.exceptions import StripeAPIError
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.testing.requestlog import DROPPED, RecordedRequest
from airflow_provider_stripe.transfers.ordered_map import AHEAD_PER_THREAD
from airflow_provider_stripe.transfers.paced_requests import THREADS_PER_REQUEST_A_SECOND
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.emulator.conftest import sdk_client
from tests.transfers.conftest import folder_bytes, read_lines

LIMIT = 25
#: Retrievals in flight or held at most: two a thread, two threads per request a second.
AHEAD = AHEAD_PER_THREAD * THREADS_PER_REQUEST_A_SECOND * LIMIT
PRODUCTS = 2 * AHEAD
START = 1_796_000_000  # long past on the host's clock; the emulator's clock is steered


def seed_changes(emulator: StripeEmulator, count: int = PRODUCTS) -> list[str]:
    """``count`` products created, a third updated and a tenth deleted, inside the interval
    ``[START, START + 60)``; the ids in the order of their last change (the order of the rows)."""
    last_change: list[str] = []

    def changed(product_id: str) -> None:
        if product_id in last_change:
            last_change.remove(product_id)
        last_change.append(product_id)

    with requests.Session() as session:
        session.auth = (emulator.api_key, "")

        def post(path: str, data: dict[str, Any] | None = None, method: str = "POST") -> dict[str, Any]:
            answer = session.request(method, f"{emulator.base_url}{path}", data=data, timeout=30)
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            return body

        emulator.clock.freeze(at=START + 1)
        ids = [post("/v1/products", {"name": f"P{number}"})["id"] for number in range(count)]
        for product_id in ids:
            changed(product_id)
        emulator.clock.freeze(at=START + 2)
        for product_id in ids[::3]:
            post(f"/v1/products/{product_id}", {"description": "changed"})
            changed(product_id)
        emulator.clock.freeze(at=START + 3)
        for product_id in ids[5::10]:
            post(f"/v1/products/{product_id}", method="DELETE")
            changed(product_id)
    emulator.clock.freeze(at=START + 60)  # the interval has ended on Stripe's clock
    return last_change


def expected_rows(emulator: StripeEmulator, order: list[str]) -> list[dict[str, Any]]:
    """What one retrieval after another gives, through the official SDK: each product as Stripe
    holds it, a deleted one as its stub."""
    client = sdk_client(emulator)
    rows = []
    for product_id in order:
        try:
            rows.append(client.v1.products.retrieve(product_id).to_dict())
        except stripe.InvalidRequestError as error:  # No such product
            if error.http_status != 404:
                raise
            rows.append({"id": product_id, "object": "product", "deleted": True})
    return rows


def export(folder: Path, **operator: Any) -> dict[str, Any]:
    """The change capture of ``[START, START + 60)`` into ``folder``, in this process."""
    task = StripeToObjectStorageOperator(
        task_id="changes",
        resource="products",
        path=f"file://{folder}/",
        capture="changes",
        lookback=0,
        **operator,
    )
    context: Any = {
        "data_interval_start": datetime.fromtimestamp(START, timezone.utc),
        "data_interval_end": datetime.fromtimestamp(START + 60, timezone.utc),
    }
    manifest: dict[str, Any] = task.execute(context)
    return manifest


def retrievals(emulator: StripeEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "GET" and r.path.startswith("/v1/products/")]


def assert_each_answered_once(emulator: StripeEmulator, order: list[str]) -> None:
    """Every changed product retrieved and answered (200, or 404 for a deleted one) exactly once."""
    answered = Counter(r.path.rsplit("/", 1)[1] for r in retrievals(emulator) if r.status in (200, 404))
    assert answered == Counter(order)


def test_retrievals_overlap_within_the_rate_limit_in_the_order_of_the_changes(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    order = seed_changes(stripe_env)
    expected = expected_rows(stripe_env, order)
    stripe_env.rate_limit(LIMIT)
    stripe_env.latency = 0.3
    # The first row's retrieval answers 10 s late: the others go on meanwhile, up to the window.
    stripe_env.slow_next(1, 10.0, method="GET", path=f"/v1/products/{order[0]}")
    stripe_env.clear_log()
    manifest = export(tmp_path / "first")

    assert read_lines(tmp_path / "first") == expected
    assert manifest["objects"] == len(order) == PRODUCTS
    assert_each_answered_once(stripe_env, order)
    log = retrievals(stripe_env)
    held = next(r for r in log if r.path == f"/v1/products/{order[0]}")
    # Its answer came at received + 10.3 s at the earliest: these were sent while it was in flight.
    meanwhile = [r for r in log if held.received < r.received < held.received + 10.0]
    objects = {r.path for r in meanwhile}  # an object whose request was answered 429 is asked again
    assert len(objects) >= 20  # side by side: one after another, none would be
    assert len(objects) < AHEAD  # never more than the window ahead of the row being written
    # Paced: offered (429s included) at no more than the limit, few of them answered 429.
    received = sorted(r.received for r in log)
    assert (len(received) - 1) / (received[-1] - received[0]) <= LIMIT
    assert sum(r.status == 429 for r in log) <= 0.15 * len(log)

    # A re-run, nothing having changed since: byte-identical files.
    export(tmp_path / "again")
    assert folder_bytes(tmp_path / "again") == folder_bytes(tmp_path / "first")


def test_500s_and_dropped_connections_among_the_retrievals_change_nothing(
    stripe_env: StripeEmulator, tmp_path: Path
) -> None:
    order = seed_changes(stripe_env, AHEAD)
    stripe_env.rate_limit(LIMIT)
    stripe_env.latency = 0.1
    export(tmp_path / "clean")
    stripe_env.clear_log()
    stripe_env.fail_next(3, status=500, method="GET", path="/v1/products/", after=10)
    stripe_env.fail_next(2, status="drop", method="GET", path="/v1/products/", after=30)
    export(tmp_path / "faults")

    statuses = Counter(r.status for r in retrievals(stripe_env))
    assert statuses[500] == 3
    assert statuses[DROPPED] == 2
    assert_each_answered_once(stripe_env, order)
    assert folder_bytes(tmp_path / "faults") == folder_bytes(tmp_path / "clean")


def test_a_429_among_the_retrievals_slows_the_pace_without_using_up_a_retry(
    stripe_emulator: StripeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No retries at all: a 429 that used one up would fail the task.
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT", stripe_emulator.connection_json(extra={"max_retries": 0})
    )
    order = seed_changes(stripe_emulator, AHEAD)
    expected = expected_rows(stripe_emulator, order)
    stripe_emulator.rate_limit(LIMIT)
    stripe_emulator.latency = 0.1
    stripe_emulator.clear_log()
    stripe_emulator.fail_next(3, status=429, method="GET", path="/v1/products/", after=10)
    with caplog.at_level(logging.INFO):
        manifest = export(tmp_path)

    assert manifest["objects"] == len(order)
    assert sum(r.status == 429 for r in retrievals(stripe_emulator)) >= 3
    # Progress in the task log (logging on Airflow 2, structlog's output on 3): objects and
    # requests a second, the 429s counted.
    logged = caplog.text + "".join(capsys.readouterr())
    assert f"Retrieved {len(order)} objects in" in logged
    assert "answered 429)" in logged
    assert_each_answered_once(stripe_emulator, order)
    assert read_lines(tmp_path) == expected


def test_a_failed_retrieval_stops_the_others_and_writes_no_manifest(
    stripe_emulator: StripeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT", stripe_emulator.connection_json(extra={"max_retries": 0})
    )
    order = seed_changes(stripe_emulator)
    stripe_emulator.rate_limit(LIMIT)
    stripe_emulator.latency = 0.1
    export(tmp_path)  # a complete folder, whose manifest the failed run withdraws
    stripe_emulator.clear_log()
    stripe_emulator.fail_next(1, status=500, method="GET", path="/v1/products/", after=20)
    with pytest.raises(StripeAPIError):
        export(tmp_path)

    assert not (tmp_path / "manifest.json").exists()
    # Nothing after the failure but what was already taken: at most the window.
    assert len(retrievals(stripe_emulator)) <= 21 + AHEAD < len(order)
    assert stripe_emulator.in_flight == 0  # no retrieval left running once the task has failed
