"""Stripe's rate limiter in the emulator, through the official SDK.

Sources: https://docs.stripe.com/rate-limits ("Rate limiter": 25 read and 25 write operations a
second in a sandbox, 100 each in live mode, each mode apart; 429 responses carry
``Stripe-Rate-Limited-Reason``, ``global-rate`` for this limiter) and
https://docs.stripe.com/error-codes#rate-limit (code ``rate_limit``, "Too many requests hit the API
too quickly. We recommend an exponential backoff of your requests."), an ``invalid_request_error``
as stripe-python 16.1.0 receives it (``_error_response``: a 429 is a ``RateLimitError``).

No test here depends on the machine's speed: a limit is shown by sending until the first 429 (a
generous cap, never a time window the test must meet), a lifted limit by many requests all answered.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
import stripe

from airflow_provider_stripe.testing import StripeEmulator
from tests.emulator.conftest import error_body, sdk_client

#: Far more requests than any limit: a machine too slow to send 26 in a second would need this many.
_CAP = 2000
_MESSAGE = "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."


@pytest.fixture
def limited() -> Iterator[StripeEmulator]:
    """An emulator as built by default: Stripe's limits, not the lifted test default."""
    with StripeEmulator() as emulator:
        yield emulator


def until_limited(call: Callable[[], object]) -> tuple[int, stripe.RateLimitError]:
    """How many calls were answered before the first 429, and that 429."""
    for answered in range(_CAP):
        try:
            call()
        except stripe.RateLimitError as error:
            return answered, error
    raise AssertionError(f"no 429 in {_CAP} requests")


def test_a_sandbox_allows_25_reads_a_second_then_answers_stripes_429(limited: StripeEmulator) -> None:
    client = sdk_client(limited)
    answered, error = until_limited(client.v1.balance.retrieve)
    assert answered >= 25
    assert limited.rate_limits == (25, 100)
    assert error.http_status == 429
    body = error_body(error)
    assert (body["type"], body["code"], body["message"]) == ("invalid_request_error", "rate_limit", _MESSAGE)
    assert error.headers is not None
    assert error.headers["Stripe-Rate-Limited-Reason"] == "global-rate"
    statuses = [request.status for request in limited.requests]
    assert statuses.count(429) == 1
    # Over any second, at most 25 were admitted: the 26th within it was the one refused.
    assert statuses.count(200) == answered


def test_reads_and_writes_are_counted_apart(limited: StripeEmulator) -> None:
    client = sdk_client(limited)
    until_limited(client.v1.balance.retrieve)
    assert client.v1.customers.create().id.startswith("cus_")


def test_each_mode_has_its_own_limit_and_live_mode_allows_100(limited: StripeEmulator) -> None:
    test_client = sdk_client(limited)
    live_client = sdk_client(limited, limited.live_api_key)
    until_limited(test_client.v1.balance.retrieve)
    answered, error = until_limited(live_client.v1.balance.retrieve)
    assert answered >= 100
    assert error_body(error)["code"] == "rate_limit"


def test_the_limit_can_be_changed_and_lifted(limited: StripeEmulator) -> None:
    client = sdk_client(limited)
    limited.rate_limit(3, 5)
    assert limited.rate_limits == (3, 5)
    answered, _ = until_limited(client.v1.balance.retrieve)
    assert answered >= 3
    limited.rate_limit(None)
    assert limited.rate_limits == (None, None)
    for _ in range(300):
        client.v1.balance.retrieve()
    limited.reset()
    assert limited.rate_limits == (25, 100)


def test_an_emulator_can_start_without_a_limit() -> None:
    with StripeEmulator(rate_limit=None, live_rate_limit=None) as emulator:
        client = sdk_client(emulator)
        for _ in range(300):
            client.v1.balance.retrieve()
        assert emulator.count("GET", "/v1/balance") == 300


def test_the_project_tests_emulator_is_unlimited(stripe_emulator: StripeEmulator) -> None:
    """tests/conftest.py lifts the limit for tests about something else."""
    assert stripe_emulator.rate_limits == (None, None)


def test_latency_is_added_to_every_answer_errors_included() -> None:
    with StripeEmulator(latency=0.2, rate_limit=1) as emulator:
        client = sdk_client(emulator)
        for call in (
            client.v1.balance.retrieve,
            client.v1.balance.retrieve,
            lambda: client.v1.charges.retrieve("ch_x"),
        ):
            started = time.perf_counter()
            with contextlib.suppress(stripe.StripeError):
                call()
            assert time.perf_counter() - started >= 0.2
        assert {request.status for request in emulator.requests} >= {200, 429}


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        StripeEmulator(rate_limit=0)
    with pytest.raises(ValueError, match="live_rate_limit"):
        StripeEmulator(live_rate_limit=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="latency"):
        StripeEmulator(latency=-1)


def test_the_command_takes_the_limit_and_the_latency() -> None:
    command = [sys.executable, "-m", "airflow_provider_stripe.testing", "--port", "0", "--rate-limit", "2"]
    with subprocess.Popen([*command, "--latency", "0.1"], stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(4)]
            url = re.search(r"listening on (\S+)", lines[0])
            key = re.search(r"key: (\S+)", lines[1])
            assert url
            assert key
            assert "2 / 100" in lines[3]
            client = stripe.StripeClient(
                key.group(1), base_addresses={"api": url.group(1)}, max_network_retries=0
            )
            started = time.perf_counter()
            answered, error = until_limited(client.v1.balance.retrieve)
            assert answered >= 2
            assert time.perf_counter() - started >= 0.1 * (answered + 1)
            assert error_body(error)["code"] == "rate_limit"
        finally:
            process.terminate()
    refused = subprocess.run([*command, "--rate-limit", "0"], capture_output=True, text=True)
    assert refused.returncode == 2
    assert "--rate-limit" in refused.stderr
