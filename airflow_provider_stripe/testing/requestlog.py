"""The request log: every request the emulator answered, for tests that count API calls."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from airflow_provider_stripe.testing.auth import KeyKind

DROPPED = 0
"""``status`` of a request whose connection was dropped without a response."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, Any]
    """Decoded query parameters (nested like the form)."""
    form: dict[str, Any]
    """Decoded form body of a POST."""
    idempotency_key: str | None
    api_key_kind: KeyKind | None
    """``secret``/``restricted``/``publishable``/``unknown`` from the key's prefix; None without a key."""
    status: int
    """The HTTP status the client saw, or ``DROPPED`` (0)."""
    request_id: str
    replayed: bool
    """Whether the response was an idempotent replay."""
    received: float = 0.0
    """``time.monotonic()`` when the emulator took the request in (before its latency), as its rate
    limiter counts it: the pace a client offered, apart from how long its answers took."""


class RequestLog:
    """Append-only and thread-safe: the server thread writes while the test thread reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        return sum(
            1
            for entry in self.snapshot()
            if (method is None or entry.method == method.upper())
            and (path_prefix is None or entry.path.startswith(path_prefix))
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def most_in_flight(requests: Iterable[RecordedRequest], latency: float) -> int:
    """The most of ``requests`` received within ``latency`` of each other: with every answer
    ``latency`` late, the most a client had in flight at once (a serial client has 1)."""
    received = sorted(request.received for request in requests)
    most, first = 0, 0
    for last, moment in enumerate(received):
        while received[first] <= moment - latency:
            first += 1
        most = max(most, last - first + 1)
    return most
