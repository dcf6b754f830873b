"""An export's requests to Stripe, from any number of threads, within one budget of requests a second.

Every attempt waits its turn at one :class:`~.pacing.Pacer`. A 429 does not use up a retry: the
pacer slows down and the request waits a new turn (retrying into the limit would only meet it
again). Other failures are retried as the connection allows (the hook's policy). The threads (as
many as :attr:`PacedRequests.threads` says the budget needs) share the hook's keep-alive session,
widened to a connection per thread. The backfill's slices and the change capture's retrievals use it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_stripe.api.retries import send_with_retries
from airflow_provider_stripe.exceptions import StripeRateLimitError
from airflow_provider_stripe.transfers.pacing import Pacer

if TYPE_CHECKING:
    from airflow_provider_stripe.api.pages import Page
    from airflow_provider_stripe.hooks.stripe import StripeHook, StripeObject

#: 429s in a row for one request before the export gives up (the pacer is at its slowest by then).
MAX_THROTTLED = 30
#: Threads per request a second of budget: requests in flight = budget x answer time, so two
#: threads per request a second use the budget at answers of up to 2 s.
THREADS_PER_REQUEST_A_SECOND = 2
#: The most threads one export runs: live mode's 100 requests a second at 1.28 s an answer.
MAX_THREADS = 128

_Answer = TypeVar("_Answer")


class _Throttled(Exception):
    """A 429, kept out of the hook's retry policy: the pacer handles it."""


class PacedRequests:
    """GETs for one export, paced to ``requests_per_second`` across all of its threads.

    :param hook: the Stripe hook (its connection's key, account and retry settings).
    :param requests_per_second: the export's budget (see :func:`.pacing.budget`).
    """

    def __init__(self, hook: StripeHook, requests_per_second: float) -> None:
        self._hook = hook
        self.budget = requests_per_second
        self.pacer = Pacer(requests_per_second)
        #: Requests sent, 429s included.
        self.sent = 0
        self._lock = threading.Lock()
        # One attempt per call: a 429 must reach the pacer, not the hook's backoff; other failures
        # are retried below with the connection's policy. Shares the hook's session (connections).
        hook.session  # noqa: B018  (created before the copy, so that both use it)
        self._once = copy.copy(hook)
        self._once.__dict__["settings"] = dataclasses.replace(hook.settings, max_retries=0)

    def list_page(self, path: str, query: Mapping[str, Any]) -> Page:
        """One page of the list at ``path``, with Stripe's clock (``StripeHook.list_page``, paced)."""
        return self._paced(lambda: self._once.list_page(path, query))

    def retrieve(self, path: str, params: Mapping[str, Any] | None = None) -> StripeObject:
        """One object (``StripeHook.request("GET", ...)``, paced)."""
        return self._paced(lambda: self._once.request("GET", path, params))

    @property
    def threads(self) -> int:
        """How many threads keep the budget busy (a request in flight each)."""
        return min(MAX_THREADS, max(1, math.ceil(THREADS_PER_REQUEST_A_SECOND * self.budget)))

    def widen_connection_pool(self, threads: int) -> None:
        """A kept-alive connection per thread (requests keeps 10 to a host by default)."""
        from requests.adapters import HTTPAdapter

        self._hook.session.mount(self._hook.base_url, HTTPAdapter(pool_connections=1, pool_maxsize=threads))

    def _paced(self, send: Callable[[], _Answer]) -> _Answer:
        """``send`` once Stripe answers other than 429, each attempt paced; a 429 slows the pacer down
        and takes the next turn (ahead of requests not yet tried), without using up a retry."""
        retry = False
        for _ in range(MAX_THROTTLED):
            try:
                attempt = functools.partial(self._attempt, send, retry=retry)
                answer = send_with_retries(self._hook.settings, attempt)
            except _Throttled:
                self.pacer.throttled()
                retry = True
                continue
            self.pacer.succeeded()
            return answer
        return send_with_retries(self._hook.settings, lambda: self._attempt(send, retry=True, last=True))

    def _attempt(self, send: Callable[[], _Answer], *, retry: bool, last: bool = False) -> _Answer:
        self.pacer.acquire(first=retry)
        with self._lock:
            self.sent += 1
        try:
            return send()
        except StripeRateLimitError as error:
            if last:
                raise
            raise _Throttled(str(error)) from error
