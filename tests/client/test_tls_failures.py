"""A TLS / certificate failure is not transient: no retries, and a sensor's wait ends at once.

Source: stripe-python 16.1.0 ``_http_client.py`` (``RequestsClient._handle_request_error``): an
``SSLError`` is reported as "Could not verify Stripe's SSL certificate..." with ``should_retry =
False``, while timeouts and connection errors are retried. A proxy that intercepts TLS presents a
certificate the client's CA bundle lacks, as the self-signed one of these tests does.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_stripe.exceptions import StripeTLSError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.triggers.stripe import StripeNewObjectsTrigger, error_from_event
from tests.client.conftest import ConnectionTo
from tests.client.servers import Recording
from tests.dag_runs import run_dag
from tests.sensors.test_sensor_runs import charge_watch_dag

#: With these, a transient failure would take 3 more attempts and over a second of backoff.
RETRYING = {"max_retries": 3, "backoff_initial": 0.4}


def assert_names_the_certificate_problem(message: str) -> None:
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert "self-signed certificate" in message
    assert "REQUESTS_CA_BUNDLE" in message


def test_sync_request_fails_at_once_without_retries(
    tls_server: Recording, connection_to: ConnectionTo
) -> None:
    hook = connection_to(tls_server.url, **RETRYING)
    with pytest.raises(StripeTLSError) as caught:
        hook.request("GET", "/v1/charges")
    assert tls_server.connections == 1  # one attempt: a retry would connect again
    assert tls_server.requests == []
    assert_names_the_certificate_problem(str(caught.value))


def test_async_request_fails_at_once_without_retries(
    tls_server: Recording, connection_to: ConnectionTo
) -> None:
    hook = connection_to(tls_server.url, **RETRYING)

    async def call() -> None:
        try:
            await hook.arequest("GET", "/v1/charges")
        finally:
            await hook.aclose()

    with pytest.raises(StripeTLSError) as caught:
        asyncio.run(call())
    assert tls_server.connections == 1  # one attempt: a retry would connect again
    assert_names_the_certificate_problem(str(caught.value))


@pytest.mark.parametrize("on_event_loop", [False, True], ids=["requests", "aiohttp"])
def test_the_documented_ca_bundle_fixes_both_clients(
    tls_server: Recording,
    connection_to: ConnectionTo,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    on_event_loop: bool,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    hook = connection_to(tls_server.url)

    async def call() -> dict[str, Any]:
        try:
            return await hook.arequest("GET", "/v1/charges")
        finally:
            await hook.aclose()

    page = asyncio.run(call()) if on_event_loop else hook.request("GET", "/v1/charges")
    assert page["object"] == "list"
    assert [seen.path for seen in tls_server.requests] == ["/v1/charges"]


def test_deferrable_trigger_ends_the_wait_with_the_tls_error(
    tls_server: Recording, connection_to: ConnectionTo
) -> None:
    connection_to(tls_server.url, **RETRYING)
    trigger = StripeNewObjectsTrigger(
        path="/v1/charges", cursor=Cursor.starting_at(0).to_json(), poll_interval=0.1
    )

    async def first_event() -> dict[str, Any]:
        events = trigger.run()
        event = await asyncio.wait_for(events.__anext__(), timeout=10)
        await events.aclose()
        return dict(event.payload)

    event = asyncio.run(first_event())  # a transient failure would be polled through, with no event
    assert event["status"] == "error"
    assert event["error_class"] == "StripeTLSError"
    assert tls_server.connections == 1
    error = error_from_event(event)
    assert isinstance(error, StripeTLSError)
    assert_names_the_certificate_problem(str(error))


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_a_sensor_run_fails_at_once_instead_of_polling_until_its_timeout(
    tls_server: Recording, connection_to: ConnectionTo, mode: str
) -> None:
    """A deferrable sensor pokes once before it defers, so it fails there; the trigger's own
    handling of the same failure is the test above."""
    connection_to(tls_server.url, **RETRYING)
    options: dict[str, Any] = {"deferrable": True} if mode == "deferrable" else {"mode": mode}
    dag = charge_watch_dag(f"stripe_tls_{mode}", start_from=0, poke_interval=1, timeout=120, **options)
    started = time.monotonic()
    result = run_dag(dag, datetime(2026, 1, 1))
    elapsed = time.monotonic() - started

    assert result.state_of("new") == "failed"
    assert result.tries[("new", -1)] == 1  # the DAG allows a retry; an AirflowFailException takes none
    assert tls_server.connections == 1  # no hook retries either
    assert elapsed < 60, elapsed  # well short of the 120 s timeout
