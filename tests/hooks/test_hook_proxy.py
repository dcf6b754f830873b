"""The hook reads the proxy environment once per session, and still honours it.

requests documents HTTP_PROXY / HTTPS_PROXY / NO_PROXY (https://requests.readthedocs.io/en/latest/user/advanced/#proxies);
with ``trust_env`` it reads them again on every request, so the hook resolves them when it builds its
session. A tiny loopback forward proxy shows which way each request went.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from tests.hooks.conftest import HookFactory

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Proxy(ThreadingHTTPServer):
    """A forward proxy that answers every request itself, with an empty Stripe list, and keeps the
    absolute URLs it was asked for."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.asked: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    server: Proxy

    def do_GET(self) -> None:
        self.server.asked.append(self.path)
        body = json.dumps({"object": "list", "data": [], "has_more": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxy]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    server = Proxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_proxy_in_the_environment_carries_the_requests(
    proxy: Proxy, make_hook: HookFactory, stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    hook = make_hook()
    hook.request("GET", "/v1/charges")
    hook.request("GET", "/v1/charges", {"limit": 1})
    assert proxy.asked == [
        f"{stripe_emulator.base_url}/v1/charges",
        f"{stripe_emulator.base_url}/v1/charges?limit=1",
    ]
    assert stripe_emulator.count("GET", "/v1/charges") == 0
    assert hook.session.trust_env is False  # resolved once, not per request
    assert hook.session.proxies["http"] == proxy.url


def test_no_proxy_exempts_the_stripe_host(
    proxy: Proxy, make_hook: HookFactory, stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    hook = make_hook()
    hook.request("GET", "/v1/charges")
    assert proxy.asked == []
    assert stripe_emulator.count("GET", "/v1/charges") == 1


def test_the_async_path_honours_the_same_proxy(
    proxy: Proxy, make_hook: HookFactory, stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    hook = make_hook()

    async def list_charges() -> None:
        try:
            await hook.arequest("GET", "/v1/charges")
        finally:
            await hook.aclose()

    asyncio.run(list_charges())
    assert proxy.asked == [f"{stripe_emulator.base_url}/v1/charges"]
    assert stripe_emulator.count("GET", "/v1/charges") == 0
