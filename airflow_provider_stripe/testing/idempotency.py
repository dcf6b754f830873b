"""Stripe's idempotency keys for POSTs: same key + same request replays the first response.

Rules kept from Stripe (docs: "Idempotent requests"): keys are scoped to the account and mode; a
saved response (success, decline, the endpoint's own 4xx or a server error alike) is replayed with
``Idempotent-Replayed: true`` and creates nothing; the same key on another endpoint or with other
parameters is a 400 ``idempotency_error``; while a request with a key is executing, another with the
same key is a 409 ``idempotency_error`` (code ``idempotency_key_in_use``); a request rejected before
its endpoint began executing (parameter validation, 429, a conflict) saves nothing, so it can be
corrected and re-sent under the same key; keys are forgotten after 24 hours (by the emulator clock).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_stripe.limits import IDEMPOTENCY_KEY_MAX_LENGTH
from airflow_provider_stripe.testing.errors import StripeAPIError, invalid

KEY_WINDOW_SECONDS = 24 * 3600

Scope = tuple[str, bool]
"""(account id, livemode)."""


@dataclass(frozen=True)
class SavedResponse:
    method: str
    path: str
    fingerprint: str
    status: int
    body: bytes
    saved_at: float
    request_id: str
    """Sent back as ``Original-Request`` on replays, as Stripe does."""


def _fingerprint(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


class IdempotencyCache:
    def __init__(self) -> None:
        self._saved: dict[tuple[Scope, str], SavedResponse] = {}
        self._in_progress: set[tuple[Scope, str]] = set()

    def begin(
        self, scope: Scope, key: str, method: str, path: str, params: Mapping[str, Any], now: float
    ) -> SavedResponse | None:
        """The saved response to replay, or None after marking a fresh key in progress.

        Raises an ``idempotency_error``: 409 while another request holds the key, 400 for a key
        first used on another endpoint or with other parameters.
        """
        if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise invalid(
                None, f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters long."
            )
        if (scope, key) in self._in_progress:
            raise StripeAPIError(
                409,
                "There is currently another in-progress request using this Stripe API Key and idempotency "
                "key. Please try again later.",
                type="idempotency_error",
                code="idempotency_key_in_use",
            )
        saved = self._saved.get((scope, key))
        if saved is None or saved.saved_at + KEY_WINDOW_SECONDS <= now:
            self._in_progress.add((scope, key))
            return None
        if (saved.method, saved.path) != (method, path):
            raise _idempotency_error(
                "Keys for idempotent requests can only be used for the same endpoint they were first used "
                f"for ('{saved.method} {saved.path}' vs '{method} {path}'). Try using a key other than "
                f"'{key}' if you meant to execute a different request."
            )
        if saved.fingerprint != _fingerprint(params):
            raise _idempotency_error(
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{key}' if you meant to execute a different request."
            )
        return saved

    def save(
        self,
        scope: Scope,
        key: str,
        method: str,
        path: str,
        params: Mapping[str, Any],
        status: int,
        body: bytes,
        now: float,
        request_id: str,
    ) -> None:
        """Save the result of an executed request and release its key."""
        self._in_progress.discard((scope, key))
        self._saved[(scope, key)] = SavedResponse(
            method, path, _fingerprint(params), status, body, now, request_id
        )

    def clear(self) -> None:
        self._saved.clear()
        self._in_progress.clear()


def _idempotency_error(message: str) -> StripeAPIError:
    return StripeAPIError(400, message, type="idempotency_error")
