from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airflow_provider_stripe.hooks.stripe import StripeHook
from tests.client.servers import Recording, recording_server, self_signed_certificate

API_KEY = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"  # the shape of a key, for a server that checks none
ConnectionTo = Callable[..., StripeHook]


@pytest.fixture
def connection_to(monkeypatch: pytest.MonkeyPatch) -> ConnectionTo:
    """Point ``stripe_default`` at ``url`` (extras as given) and return a hook on it."""

    def point(url: str, **extra: object) -> StripeHook:
        conn = {"conn_type": "stripe", "password": API_KEY, "host": url, "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", json.dumps(conn))
        return StripeHook("stripe_default")

    return point


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path)


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[Recording]:
    """An HTTPS server on 127.0.0.1 whose certificate no default CA bundle trusts."""
    with recording_server(certificate) as recording:
        yield recording
