"""The HTTP side: an aiohttp application that runs each request through Stripe's pipeline.

For every request, in order: injected fault (before handling) -> rate limit -> API key -> route
(unknown URL is a 404) -> restricted-key permission -> idempotent replay -> parameter validation and
the resource handler -> injected fault (after handling) -> added latency -> request log. Every answer
carries ``Request-Id`` and ``Stripe-Version``. aiohttp does the HTTP (and sets TCP_NODELAY, which
keeps a loopback request at about a millisecond); this module only decides what to answer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from aiohttp import web

from airflow_provider_stripe.testing.auth import ApiKey, key_from_header, kind_of, permission_denied
from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.errors import (
    StripeAPIError,
    api_error,
    invalid,
    rate_limited,
    unrecognized_url,
)
from airflow_provider_stripe.testing.faults import Fault
from airflow_provider_stripe.testing.forms import decode
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.params import parse
from airflow_provider_stripe.testing.requestlog import DROPPED, RecordedRequest
from airflow_provider_stripe.testing.resources import ENDPOINTS
from airflow_provider_stripe.testing.state import EmulatorState

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-10-28.endive"
"""The version stripe-python 16.1.0 pins; echoed when a request names none."""

_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z_]+)?")


@dataclass
class Outcome:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    @classmethod
    def of_error(cls, error: StripeAPIError) -> Outcome:
        return cls(error.status, _json(error.body()), dict(error.headers))

    @classmethod
    def of_fault(cls, fault: Fault) -> Outcome:
        return cls(DROPPED) if fault.drops else cls.of_error(fault.error())


@dataclass(frozen=True)
class Incoming:
    """What the pipeline needs from one HTTP request, read before taking the state lock."""

    method: str
    path: str
    match_info: Mapping[str, str]
    headers: Mapping[str, str]
    query: dict[str, Any]
    form: dict[str, Any]
    decode_error: StripeAPIError | None

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key") or None


def _json(payload: Mapping[str, Any]) -> bytes:
    # Compact: Stripe pretty-prints, but ``indent`` would bypass the C encoder and cost ~4x per page.
    return json.dumps(payload).encode()


class StripeServer:
    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    def application(self) -> web.Application:
        app = web.Application()
        for endpoint in ENDPOINTS:
            app.router.add_route(endpoint.method, endpoint.path, functools.partial(self._serve, endpoint))
        # Anything else, including a known path with the wrong method, is Stripe's "Unrecognized request URL".
        app.router.add_route("*", "/{tail:.*}", functools.partial(self._serve, None))
        return app

    async def _serve(self, endpoint: Endpoint | None, request: web.Request) -> web.StreamResponse:
        incoming = await self._read(request)
        request_id = new_id("req")
        state = self._state
        with state.lock:
            fault = state.faults.take()
            latency = state.latency
            if fault is not None and not fault.after_handler:
                outcome = Outcome.of_fault(fault)
            elif not state.rate_limiter.admit():
                outcome = Outcome.of_error(rate_limited())
            else:
                outcome = self._handle(endpoint, incoming, request_id)
                if fault is not None:
                    outcome = Outcome.of_fault(fault)
        if latency > 0:
            await asyncio.sleep(latency)
        key = key_from_header(incoming.headers.get("Authorization"))
        state.log.append(
            RecordedRequest(
                method=incoming.method,
                path=incoming.path,
                query=incoming.query,
                form=incoming.form,
                idempotency_key=incoming.idempotency_key,
                api_key_kind=None if key is None else kind_of(key),
                status=outcome.status,
                request_id=request_id,
                replayed=outcome.replayed,
            )
        )
        if outcome.status == DROPPED:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        headers = {
            "Date": formatdate(state.clock.time(), usegmt=True),  # Stripe's clock is the emulator's
            "Request-Id": request_id,
            "Stripe-Version": incoming.headers.get("Stripe-Version") or DEFAULT_API_VERSION,
            **outcome.headers,
        }
        if incoming.method == "POST" and incoming.idempotency_key:
            headers["Idempotency-Key"] = incoming.idempotency_key
        return web.Response(
            body=outcome.body, status=outcome.status, headers=headers, content_type="application/json"
        )

    @staticmethod
    async def _read(request: web.Request) -> Incoming:
        decode_error = None
        query: dict[str, Any] = {}
        form: dict[str, Any] = {}
        try:
            query = decode(request.query.items())
            if request.method == "POST":
                body = await request.post()
                form = decode((name, value) for name, value in body.items() if isinstance(value, str))
        except StripeAPIError as error:
            decode_error = error
        return Incoming(
            request.method, request.path, dict(request.match_info), request.headers, query, form, decode_error
        )

    def _handle(self, endpoint: Endpoint | None, incoming: Incoming, request_id: str) -> Outcome:
        """Auth, routing, permission, idempotency and the handler; called holding the state lock."""
        try:
            key = self._state.keys.authenticate(incoming.headers.get("Authorization"))
            version = incoming.headers.get("Stripe-Version")
            if version is not None and not _API_VERSION.fullmatch(version):
                raise invalid(None, f"Invalid Stripe API version: {version}")
            if endpoint is None:
                raise unrecognized_url(incoming.method, incoming.path)
            account_id = incoming.headers.get("Stripe-Account") or self._state.account_id
            if not key.allows(endpoint.permission):
                raise permission_denied(key, endpoint.permission, account_id)
            if incoming.decode_error is not None:
                raise incoming.decode_error
            return self._run(endpoint, incoming, key, account_id, request_id)
        except StripeAPIError as error:
            return Outcome.of_error(error)
        except Exception as exc:  # an emulator bug: answer like Stripe's 500, keep the traceback
            log.exception("Stripe emulator failed on %s %s", incoming.method, incoming.path)
            return Outcome.of_error(api_error(f"Stripe emulator internal error: {exc!r}"))

    def _run(
        self, endpoint: Endpoint, incoming: Incoming, key: ApiKey, account_id: str, request_id: str
    ) -> Outcome:
        state = self._state
        raw = {**incoming.query, **incoming.form}
        now = state.clock.time()
        scope = (account_id, key.livemode)
        replay_key = incoming.idempotency_key if incoming.method == "POST" else None
        if replay_key is not None:
            saved = state.idempotency.replay(scope, replay_key, incoming.method, incoming.path, raw, now)
            if saved is not None:
                headers = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
                return Outcome(saved.status, saved.body, headers, replayed=True)
        connected_account = None if account_id == state.account_id else account_id
        context = ApiContext(
            ledger=state.store.ledger(key.livemode, connected_account),
            livemode=key.livemode,
            now=now,
            visibility_delay=state.visibility_delay,
            account_id=account_id,
            next_seq=state.store.next_seq,
            request_id=request_id,
            idempotency_key=incoming.idempotency_key if incoming.method == "POST" else None,
            connected_account=connected_account,
        )
        try:
            outcome = Outcome(
                200, _json(endpoint.handler(context, parse(raw, endpoint.schema), incoming.match_info))
            )
        except StripeAPIError as error:
            if not error.saves_idempotent_result:
                raise
            outcome = Outcome.of_error(error)
        if replay_key is not None:
            state.idempotency.save(
                scope,
                replay_key,
                incoming.method,
                incoming.path,
                raw,
                outcome.status,
                outcome.body,
                now,
                request_id,
            )
        return outcome
