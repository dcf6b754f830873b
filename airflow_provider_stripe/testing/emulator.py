"""``StripeEmulator``: a local, stateful Stripe API for tests and demos.

It serves Stripe's REST API over real HTTP on 127.0.0.1 (aiohttp, its event loop on a background
thread), so any client (the ``stripe`` SDK, ``requests``, this provider's hook) talks to it exactly
as it would to api.stripe.com. The knobs here (clock, visibility delay, latency, faults, rate limit)
reproduce the situations a Stripe integration must survive, on demand and deterministically.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote, urlencode

from aiohttp import web

from airflow_provider_stripe.testing.clock import Clock
from airflow_provider_stripe.testing.faults import Fault, FaultKind
from airflow_provider_stripe.testing.ratelimit import LIVE_PER_SECOND, SANDBOX_PER_SECOND
from airflow_provider_stripe.testing.requestlog import RecordedRequest
from airflow_provider_stripe.testing.server import StripeServer
from airflow_provider_stripe.testing.settlement import check_settlement_currency
from airflow_provider_stripe.testing.state import EmulatorState

_SHUTDOWN_TIMEOUT = 2.0


class StripeEmulator:
    """An in-memory Stripe API on ``host:port`` (port 0: a free one), started by ``with`` or :meth:`start`.

    :param host: interface to listen on; keep the loopback default unless a container must reach it.
    :param port: TCP port, 0 for a random free one.
    :param api_key: the test secret key to accept (``sk_test_...``); default: a random one.
    :param rate_limit: test-mode requests a second, reads and writes each, as a Stripe sandbox
        (default 25); above it Stripe's 429 ``rate_limit``. None: no limit.
    :param live_rate_limit: the same for live-mode keys (default 100, as Stripe's live mode).
    :param latency: seconds added to every answer (default 0), as Stripe's round trip.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        rate_limit: int | None = SANDBOX_PER_SECOND,
        live_rate_limit: int | None = LIVE_PER_SECOND,
        latency: float = 0.0,
    ) -> None:
        self._host = host
        self._port = port
        self._state = EmulatorState(
            api_key, rate_limit=rate_limit, live_rate_limit=live_rate_limit, latency=_checked_latency(latency)
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> StripeEmulator:
        if self._thread is not None:
            raise RuntimeError("StripeEmulator is already running")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.create_server((self._host, self._port), family=family)
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(
            StripeServer(self._state).application(), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT
        )
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock).start())
        except BaseException:
            sock.close()
            loop.close()
            raise
        self._bound_port = sock.getsockname()[1]
        self._loop, self._runner = loop, runner
        self._thread = threading.Thread(target=loop.run_forever, name="stripe-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        loop, runner, thread = self._loop, self._runner, self._thread
        if loop is None or runner is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=_SHUTDOWN_TIMEOUT + 5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._runner = self._thread = None
        self._bound_port = None

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where and how to connect ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._bound_port is None:
            raise RuntimeError("StripeEmulator is not running; use `with StripeEmulator()` or .start()")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._bound_port}"

    @property
    def api_key(self) -> str:
        """The test-mode secret key (``sk_test_...``)."""
        return self._state.keys.test_key

    @property
    def live_api_key(self) -> str:
        """A live-mode secret key (``sk_live_...``): objects made with it have ``livemode: true``."""
        return self._state.keys.live_key

    @property
    def account_id(self) -> str:
        """The ``acct_...`` id the keys belong to (named in restricted-key errors)."""
        return self._state.account_id

    def restricted_key(self, permissions: Iterable[str], *, livemode: bool = False) -> str:
        """Register a restricted key (``rk_test_...``) allowed only ``permissions``.

        Permissions are ``rak_<resource>_<read|write>`` for charge, customer, refund, product, balance
        and account; write implies read, as in Stripe's dashboard.
        """
        with self._state.lock:
            return self._state.keys.add_restricted(permissions, livemode=livemode)

    def connection_json(self, api_key: str | None = None, *, extra: Mapping[str, Any] | None = None) -> str:
        """The value for an ``AIRFLOW_CONN_<ID>`` variable pointing at this emulator.

        :param api_key: the key to put in the connection (default: :attr:`api_key`).
        :param extra: connection extras, e.g. ``{"max_retries": 0}``.
        """
        connection: dict[str, Any] = {
            "conn_type": "stripe",
            "password": api_key or self.api_key,
            "host": self.base_url,
        }
        if extra:
            connection["extra"] = dict(extra)
        return json.dumps(connection)

    def connection_uri(self, api_key: str | None = None, *, extra: Mapping[str, Any] | None = None) -> str:
        """The same connection in Airflow's URI form (``stripe://http://:key@127.0.0.1%3APORT``).

        Airflow keeps a host's own scheme when the URI has two ``://``; the port is encoded into the
        host so that ``host`` comes back as the whole base URL, as the hook expects.
        """
        scheme, _, address = self.base_url.partition("://")
        uri = f"stripe://{scheme}://:{quote(api_key or self.api_key, safe='')}@{quote(address, safe='')}"
        if extra:
            uri += "?" + urlencode({"__extra__": json.dumps(dict(extra))})
        return uri

    def env(
        self,
        conn_id: str = "stripe_default",
        api_key: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<CONN_ID>": connection_json}``, ready for ``os.environ`` or monkeypatch."""
        return {f"AIRFLOW_CONN_{conn_id.upper()}": self.connection_json(api_key, extra=extra)}

    # -- knobs -----------------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The clock behind every ``created`` and visibility check: ``freeze``, ``set``, ``advance``..."""
        return self._state.clock

    @property
    def visibility_delay(self) -> float:
        """Seconds after creation before an object shows in lists (retrieval by id is immediate).

        Each object keeps the delay in force when it was created, as a slow card authorisation
        would: setting it back to 0 does not reveal objects that are still "in flight".
        """
        return self._state.visibility_delay

    @visibility_delay.setter
    def visibility_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("visibility_delay must be >= 0")
        with self._state.lock:
            self._state.visibility_delay = float(seconds)

    @property
    def latency(self) -> float:
        """Seconds added before every response."""
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        with self._state.lock:
            self._state.latency = _checked_latency(seconds)

    @property
    def processing_time(self) -> float:
        """Seconds each request spends executing, after validation and before its handler runs.

        Requests are served concurrently meanwhile, and a request's idempotency key is in progress:
        another request with the same key gets Stripe's 409 ``idempotency_key_in_use``.
        """
        return self._state.processing_time

    @processing_time.setter
    def processing_time(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("processing_time must be >= 0")
        with self._state.lock:
            self._state.processing_time = float(seconds)

    @property
    def country(self) -> str:
        """The account's country (``GET /v1/account``'s ``country``), ``"US"`` until set."""
        return self._state.settings.country

    @country.setter
    def country(self, code: str) -> None:
        if len(code) != 2 or not code.isalpha():
            raise ValueError(f"country must be a two-letter ISO code such as 'GB', not {code!r}")
        with self._state.lock:
            self._state.settings = replace(self._state.settings, country=code.upper())

    @property
    def settlement_currency(self) -> str:
        """The currency the account settles in (its ``default_currency``), ``"usd"`` until set.

        Stripe's minimum charge is this currency's, whatever a charge's own currency: on the default
        USD account 50 JPY is refused (about $0.33; the emulator converts at the fixed rates of
        :data:`~airflow_provider_stripe.testing.settlement.UNITS_PER_USD`).
        """
        return self._state.settings.settlement_currency

    @settlement_currency.setter
    def settlement_currency(self, currency: str) -> None:
        code = check_settlement_currency(currency)
        with self._state.lock:
            self._state.settings = replace(self._state.settings, settlement_currency=code)

    def fail_next(
        self,
        n: int = 1,
        status: FaultKind = 500,
        should_retry: bool | None = None,
        after_handler: bool = False,
        after: int = 0,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Make the next ``n`` API requests fail (after letting ``after`` more through).

        ``status`` 429 (Stripe's rate-limit error), 500 (Stripe's ``api_error``) or any other HTTP
        error status answers with a Stripe error body, plus ``Stripe-Should-Retry`` when
        ``should_retry`` is set; ``"drop"`` closes the connection with no response. With
        ``after_handler`` the request is carried out first (the object IS created, an idempotency
        key IS saved) and only its response is replaced: "the POST succeeded but the answer was lost".
        Calls queue up: ``fail_next(1, 429, after=1); fail_next(1, 500)`` answers 200, 429, 500.

        With ``method`` and/or ``path`` (a path prefix) only the requests that match count, for
        ``after`` and ``n`` alike, and any other request passes by untouched:
        ``fail_next(1, 500, method="GET", path="/v1/charges")`` fails the next charge list or
        retrieval, whatever else is sent first. Each such call counts on its own.
        """
        with self._state.lock:
            fault = Fault(status, should_retry, after_handler)
            self._state.faults.add(n, fault, after=after, method=method, path=path)

    def slow_next(
        self, n: int, seconds: float, *, method: str | None = None, path: str | None = None, after: int = 0
    ) -> None:
        """Answer the next ``n`` requests carried out ``seconds`` late (after letting ``after`` through):
        each is carried out at once (a create creates), then its answer waits: longer than a client's
        timeout, it is the answer that comes too late. ``method`` and ``path`` (a prefix) choose the
        requests, as in :meth:`fail_next`; requests refused before they are carried out (a 429 of the
        rate limit, a refused parameter, an injected error before the handler) do not count, an
        idempotent replay does.
        Unlike :attr:`latency`, which holds until set back, this strikes exactly ``n`` requests
        however long they take to come.
        """
        with self._state.lock:
            self._state.faults.add(n, Fault(delay=seconds), after=after, method=method, path=path)

    def clear_faults(self) -> None:
        """Forget every fault and late answer not used yet."""
        with self._state.lock:
            self._state.faults.clear()

    def rate_limit(
        self, per_second: int | None, live_per_second: int | Literal["same"] | None = "same"
    ) -> None:
        """Answer Stripe's 429 ``rate_limit`` above ``per_second`` requests a second; None lifts it.

        Reads and writes are counted apart, and each mode apart, as Stripe does; a refused request
        does not count. ``live_per_second`` is live mode's limit (default: the same as ``per_second``).
        """
        live = per_second if live_per_second == "same" else live_per_second
        with self._state.lock:
            self._state.rate_limiter.set(per_second, live)

    @property
    def rate_limits(self) -> tuple[int | None, int | None]:
        """The limits in force: (test mode, live mode) requests a second, None where lifted."""
        limiter = self._state.rate_limiter
        return limiter.sandbox, limiter.live

    def create_objects(
        self,
        path: str,
        params: Mapping[str, Any],
        created: Iterable[float],
        *,
        livemode: bool = False,
    ) -> list[str]:
        """Create one object per ``created`` second, as ``POST path`` with ``params`` would, fast.

        For seeding volume (a day of 100,000 charges in seconds): the objects, and their events,
        are made by the endpoint's own handler, without HTTP, the request log, the rate limit or
        latency. ``emulator.create_objects("/v1/charges", {"amount": 500, "currency": "usd",
        "source": "tok_visa"}, range(start, start + 86_400, 9))``

        :raises ValueError: for a path without a create endpoint, or parameters Stripe would refuse.
        """
        from airflow_provider_stripe.testing.seeding import create_many

        return create_many(self._state, path, params, created, livemode=livemode)

    # -- observing -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, in order (a snapshot)."""
        return self._state.log.snapshot()

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        """How many logged requests match ``method`` and start with ``path_prefix``."""
        return self._state.log.count(method, path_prefix)

    @property
    def in_flight(self) -> int:
        """Requests received and not yet answered (a late answer counts until it is logged)."""
        with self._state.lock:
            return self._state.in_flight

    def clear_log(self) -> None:
        self._state.log.clear()

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Copies of every stored ``charge``/``customer``/``refund``/``product``/``account`` (the
        platform's connected accounts), both modes, newest first.

        Deleted customers appear as Stripe shows them: ``{"id", "object", "deleted": true}``.
        """
        with self._state.lock:
            return [copy.deepcopy(record.obj) for record in self._state.store.newest_first(kind)]

    def reset(self) -> None:
        """Drop all objects, idempotency keys, faults and the log; limits and knobs go back to how the
        emulator was built (its rate limits and latency); the API keys stay."""
        self._state.reset()

    def __repr__(self) -> str:
        where = self.base_url if self._bound_port is not None else "stopped"
        return f"<StripeEmulator {where}>"


def _checked_latency(seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"latency must be a number of seconds >= 0, got {seconds!r}")
    return float(seconds)
