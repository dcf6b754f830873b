"""The HTTP side: an aiohttp application that runs each request through Stripe's pipeline.

For every request, in order: injected fault (before handling) -> rate limit -> API key and
``Stripe-Version`` -> route (unknown URL is a 404) -> restricted-key permission -> parameter
validation (the generated parameter list, the endpoint's checks, ``expand`` paths) -> idempotency
(replay, conflict, or 409 while the same key is in progress) -> processing time -> the resource
handler and ``expand`` -> saving the idempotent result -> injected fault (after handling) -> added
latency and injected lateness -> request log. As on Stripe, a result is saved for replay only once
the endpoint began executing: validation failures, 429s and conflicts save nothing. Every answer
carries ``Request-Id`` and ``Stripe-Version``; every error body a ``request_log_url``. aiohttp does
the HTTP (and sets TCP_NODELAY, which keeps a loopback request at about a millisecond); this module
only decides what to answer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, TypeVar

from aiohttp import web

from airflow_provider_stripe.api.defaults import DEFAULT_STRIPE_VERSION
from airflow_provider_stripe.testing import accepted, expand
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
from airflow_provider_stripe.testing.idempotency import Scope
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.params import parse
from airflow_provider_stripe.testing.requestlog import DROPPED, RecordedRequest
from airflow_provider_stripe.testing.resources import ENDPOINTS
from airflow_provider_stripe.testing.state import EmulatorState

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_API_VERSION = DEFAULT_STRIPE_VERSION
"""The version the provider and stripe-python 16.1.0 pin; echoed when a request names none."""


@dataclass
class Outcome:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    @classmethod
    def of_error(cls, error: StripeAPIError, request_log_url: str) -> Outcome:
        return cls(error.status, _json(error.body(request_log_url)), dict(error.headers))


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
    request_id: str

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key") or None


@dataclass(frozen=True)
class Admitted:
    """A request that passed validation and may execute (holding its idempotency key, if any)."""

    endpoint: Endpoint
    incoming: Incoming
    key: ApiKey
    account_id: str
    raw: dict[str, Any]
    params: dict[str, Any]
    replay_key: str | None

    @property
    def scope(self) -> Scope:
        return (self.account_id, self.key.livemode)


def _livemode(incoming: Incoming) -> bool:
    """The mode a request counts against, from its key's prefix (before the key is checked)."""
    return "_live_" in (key_from_header(incoming.headers.get("Authorization")) or "")


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
        """Answer ``request``, counted in :attr:`EmulatorState.in_flight` until it is logged."""
        with self._state.lock:
            self._state.in_flight += 1
        try:
            return await self._answer(endpoint, request)
        finally:
            with self._state.lock:
                self._state.in_flight -= 1

    async def _answer(self, endpoint: Endpoint | None, request: web.Request) -> web.StreamResponse:
        incoming = await self._read(request)
        received = time.monotonic()
        state = self._state
        with state.lock:
            fault = state.faults.take(incoming.method, incoming.path)
            latency, processing_time = state.latency, state.processing_time
            admission: Admitted | Outcome
            if fault is not None and not fault.after_handler:
                admission = self._fault(fault, incoming)
            elif not state.rate_limiter.admit(_livemode(incoming), incoming.method):
                admission = self._error(rate_limited(), incoming)
            else:
                admission = self._guarded(incoming, lambda: self._admit(endpoint, incoming))
        if isinstance(admission, Admitted):
            try:  # the key stays in progress meanwhile: same-key requests get a 409
                if processing_time > 0:
                    await asyncio.sleep(processing_time)
            finally:  # a client that hangs up does not stop Stripe carrying the request out
                with state.lock:
                    outcome = self._execute(admission)
        else:
            outcome = admission
        late = 0.0
        if isinstance(admission, Admitted) or outcome.replayed:  # carried out, now or before
            with state.lock:
                late = state.faults.take_delay(incoming.method, incoming.path)
        if fault is not None and fault.after_handler:
            outcome = self._fault(fault, incoming)
        answered_at = state.clock.time()
        if latency + late > 0:
            await asyncio.sleep(latency + late)
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
                request_id=incoming.request_id,
                replayed=outcome.replayed,
                received=received,
            )
        )
        if outcome.status == DROPPED:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        headers = {
            # Stripe's clock, as its answers carry it: the emulator's (steerable) clock, not the host's.
            "Date": formatdate(answered_at, usegmt=True),
            "Request-Id": incoming.request_id,
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
            request.method,
            request.path,
            dict(request.match_info),
            request.headers,
            query,
            form,
            decode_error,
            new_id("req"),
        )

    def _request_log_url(self, incoming: Incoming) -> str:
        """Where the Dashboard shows the request (Stripe puts it in every error body)."""
        key = key_from_header(incoming.headers.get("Authorization")) or ""
        mode = "" if "_live_" in key else "test/"
        return f"https://dashboard.stripe.com/{mode}logs/{incoming.request_id}?t={self._state.clock.now()}"

    def _error(self, error: StripeAPIError, incoming: Incoming) -> Outcome:
        return Outcome.of_error(error, self._request_log_url(incoming))

    def _fault(self, fault: Fault, incoming: Incoming) -> Outcome:
        return Outcome(DROPPED) if fault.drops else self._error(fault.error(), incoming)

    def _guarded(self, incoming: Incoming, step: Callable[[], T]) -> T | Outcome:
        """``step()``, or the error it raised as Stripe's answer (an emulator bug as a 500)."""
        try:
            return step()
        except StripeAPIError as error:
            return self._error(error, incoming)
        except Exception as exc:  # an emulator bug: answer like Stripe's 500, keep the traceback
            log.exception("Stripe emulator failed on %s %s", incoming.method, incoming.path)
            return self._error(api_error(f"Stripe emulator internal error: {exc!r}"), incoming)

    def _admit(self, endpoint: Endpoint | None, incoming: Incoming) -> Admitted | Outcome:
        """Everything before execution: auth, version, route, permission, validation, idempotency.

        Returns the replayed response for a key already used with this request; otherwise marks the
        key in progress and returns what :meth:`_execute` needs. Called holding the state lock.
        """
        state = self._state
        key = state.keys.authenticate(incoming.headers.get("Authorization"))
        version = incoming.headers.get("Stripe-Version")
        if version is not None and version not in accepted.api_versions():
            raise invalid(None, f"Invalid Stripe API version: {version}")
        if endpoint is None:
            raise unrecognized_url(incoming.method, incoming.path)
        account_id = incoming.headers.get("Stripe-Account") or state.account_id
        if not key.allows(endpoint.permission):
            raise permission_denied(key, endpoint.permission, account_id)
        if incoming.decode_error is not None:
            raise incoming.decode_error
        raw = {**incoming.query, **incoming.form}
        params = parse(raw, endpoint.schema)
        endpoint.check(params, state.settings)
        expand.check(endpoint.resource, endpoint.lists, params.get("expand") or [])
        replay_key = incoming.idempotency_key if incoming.method == "POST" else None
        admitted = Admitted(endpoint, incoming, key, account_id, raw, params, replay_key)
        if replay_key is not None:
            saved = state.idempotency.begin(
                admitted.scope, replay_key, incoming.method, incoming.path, raw, state.clock.time()
            )
            if saved is not None:
                headers = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
                return Outcome(saved.status, saved.body, headers, replayed=True)
        return admitted

    def _execute(self, admitted: Admitted) -> Outcome:
        """Run the endpoint and save its result (success or error alike) under the idempotency key."""
        state, incoming = self._state, admitted.incoming
        now = state.clock.time()
        connected_account = None if admitted.account_id == state.account_id else admitted.account_id
        context = ApiContext(
            ledger=state.store.ledger(admitted.key.livemode, connected_account),
            livemode=admitted.key.livemode,
            now=now,
            visibility_delay=state.visibility_delay,
            account_id=admitted.account_id,
            next_seq=state.store.next_seq,
            request_id=incoming.request_id,
            idempotency_key=incoming.idempotency_key if incoming.method == "POST" else None,
            connected_account=connected_account,
            settings=state.settings,
        )

        def run() -> Outcome:
            result = admitted.endpoint.handler(context, admitted.params, incoming.match_info)
            return Outcome(200, _json(expand.expand(context, result, admitted.params.get("expand") or [])))

        outcome = self._guarded(incoming, run)
        if admitted.replay_key is not None:
            state.idempotency.save(
                admitted.scope,
                admitted.replay_key,
                incoming.method,
                incoming.path,
                admitted.raw,
                outcome.status,
                outcome.body,
                now,
                incoming.request_id,
            )
        return outcome
