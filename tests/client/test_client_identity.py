"""The client identifies itself as Stripe asks plugin builders to.

Source: stripe-python's README, "Writing a Plugin": plugins call ``stripe.set_app_info(name,
version=..., url=...)``, which stripe-python 16.1.0 sends as the ``User-Agent`` suffix
``name/version (url)`` and as ``application`` inside the ``X-Stripe-Client-User-Agent`` JSON
(``_APIRequestor.request_headers``). The official SDK is the independent client compared with here.
"""

from __future__ import annotations

import asyncio
import json
import platform
from importlib.metadata import version
from typing import Any

import pytest

from airflow_provider_stripe import __version__
from tests.client.conftest import API_KEY, ConnectionTo
from tests.client.servers import Recording, recording_server

HOMEPAGE = "https://github.com/airflow-provider-stripe/airflow-provider-stripe"


def sent_by_stripe_python(server: Recording, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The headers stripe-python sends after ``set_app_info`` with this provider's name, version, URL."""
    stripe = pytest.importorskip("stripe")
    monkeypatch.setattr(stripe, "app_info", None)
    stripe.set_app_info("airflow-provider-stripe", version=__version__, url=HOMEPAGE)
    client = stripe.StripeClient(API_KEY, base_addresses={"api": server.url})
    client.v1.charges.list()
    return server.requests[-1].headers


def sent_by_hook(server: Recording, connection_to: ConnectionTo, *, on_event_loop: bool) -> dict[str, str]:
    hook = connection_to(server.url)
    if on_event_loop:

        async def call() -> None:
            try:
                await hook.arequest("GET", "/v1/charges")
            finally:
                await hook.aclose()

        asyncio.run(call())
    else:
        hook.request("GET", "/v1/charges")
    return server.requests[-1].headers


@pytest.mark.parametrize(("on_event_loop", "library"), [(False, "requests"), (True, "aiohttp")])
def test_hook_sends_the_application_info_stripe_python_sends(
    connection_to: ConnectionTo, monkeypatch: pytest.MonkeyPatch, on_event_loop: bool, library: str
) -> None:
    with recording_server() as server:
        ours = sent_by_hook(server, connection_to, on_event_loop=on_event_loop)
        theirs = sent_by_stripe_python(server, monkeypatch)

    our_client: dict[str, Any] = json.loads(ours["X-Stripe-Client-User-Agent"])
    their_client: dict[str, Any] = json.loads(theirs["X-Stripe-Client-User-Agent"])
    assert (
        our_client["application"]
        == their_client["application"]
        == {
            "name": "airflow-provider-stripe",
            "partner_id": None,
            "url": HOMEPAGE,
            "version": __version__,
        }
    )
    assert our_client["lang"] == their_client["lang"] == "python"
    assert our_client["lang_version"] == platform.python_version()
    assert our_client["httplib"] == library
    assert "bindings_version" not in our_client  # we are not stripe-python

    app_info = f"airflow-provider-stripe/{__version__} ({HOMEPAGE})"
    assert theirs["User-Agent"].endswith(f" {app_info}")  # stripe-python: "Stripe/v1 PythonBindings/..."
    assert ours["User-Agent"] == f"{app_info} Airflow/{version('apache-airflow')}"


def test_the_homepage_comes_from_the_package_metadata() -> None:
    from importlib.metadata import metadata

    assert f"Homepage, {HOMEPAGE}" in (metadata("airflow-provider-stripe").get_all("Project-URL") or [])
