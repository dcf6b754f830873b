"""Listing a ``created`` range at Stripe's rate limit: slices walked side by side, paced, in order.

One list walk is one page per round trip: with Stripe's answers at 0.2 to 1 s that is 1 to 5
requests a second, a fifth or less of a sandbox's 25. Here the range is cut into ``created``
slices (:mod:`.slices`) and a pool of threads walks them concurrently, every request waiting its
turn at one :class:`~.pacing.Pacer`. Each slice writes its own series of part files, so memory
stays at a page per thread and the parts, listed slice by slice, come out in a fixed order: the
order of one walk over the whole range.

A range whose first page has no more behind it is that one page (one request, as before); only a
range with more is sliced. That first page, the range's newest, also carries Stripe's clock (its
``Date`` header): the export reads it as its lookback check (:meth:`CreatedRangeLister.newest_page`),
so one round trip both sizes the slices and says whether the range may be listed yet.

A 429 does not use up a retry: the pacer slows down and the request waits its turn again. Other
failures are retried as the connection allows (the hook's policy).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_stripe.api.pages import Page, first_page_params, next_page_params, page_objects
from airflow_provider_stripe.api.retries import send_with_retries
from airflow_provider_stripe.exceptions import StripeRateLimitError
from airflow_provider_stripe.transfers.jsonl import Part, PartWriter
from airflow_provider_stripe.transfers.pacing import Pacer
from airflow_provider_stripe.transfers.slices import created_slices, estimated_objects, slice_count

if TYPE_CHECKING:
    from airflow_provider_stripe.hooks.stripe import StripeHook

#: Threads per request a second of budget: requests in flight = budget x answer time, so two
#: threads per request a second use the budget at answers of up to 2 s.
THREADS_PER_REQUEST_A_SECOND = 2
#: The most threads one export runs: live mode's 100 requests a second at 1.28 s an answer.
MAX_THREADS = 128
#: 429s in a row for one request before the export gives up (the pacer is at its slowest by then).
MAX_THROTTLED = 30
#: Seconds between progress lines in the task log.
PROGRESS_EVERY = 10.0

#: Opens the part series of one slice (``""`` for an unsliced range, ``"00003-"`` for slice 3).
PartSeries = Callable[[str], PartWriter]


class TaskLog(Protocol):
    """Where progress goes: the task's logger (a ``logging.Logger`` or Airflow 3's structlog one)."""

    def info(self, event: Any, *args: Any, **kwargs: Any) -> Any: ...


class _Throttled(Exception):
    """A 429, kept out of the hook's retry policy: the pacer handles it."""

    def __init__(self, error: StripeRateLimitError) -> None:
        super().__init__(str(error))
        self.error = error


class _Stopped(Exception):
    """Another slice failed: this one stops at its next page."""


class Progress:
    """Counts shared by the threads: objects written, requests sent, 429s, slices done."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.objects = 0
        self.requests = 0
        self.slices_done = 0
        self._lock = threading.Lock()

    def add(self, *, objects: int = 0, requests: int = 0, slices: int = 0) -> None:
        with self._lock:
            self.objects += objects
            self.requests += requests
            self.slices_done += slices

    def line(self, throttled: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (
            f"{self.objects:,} objects in {elapsed:.1f} s: {self.objects / elapsed:,.0f} objects/s, "
            f"{self.requests / elapsed:.1f} requests/s ({self.requests:,} requests, {throttled} answered 429)"
        )


class CreatedRangeLister:
    """List ``path`` over ``created_gte <= created < created_lt`` within ``requests_per_second``.

    :param hook: the Stripe hook (its connection's key, account and retry settings).
    :param path: the list's API path, e.g. ``/v1/charges``.
    :param params: other list parameters (filters, ``expand``); not ``created`` or paging.
    :param requests_per_second: the export's budget (see :func:`.pacing.budget`).
    :param log: where progress goes (the task's log).
    """

    def __init__(
        self,
        hook: StripeHook,
        path: str,
        params: Mapping[str, Any],
        *,
        requests_per_second: float,
        log: TaskLog,
    ) -> None:
        self._hook = hook
        self._path = path
        self._params = dict(params)
        self.budget = requests_per_second
        self._log = log
        self.pacer = Pacer(requests_per_second)
        self.progress = Progress()
        self._stopping = threading.Event()
        # One attempt per call: a 429 must reach the pacer, not the hook's backoff; other failures
        # are retried below with the connection's policy. Shares the hook's session (connections).
        hook.session  # noqa: B018  (created before the copy, so that both use it)
        self._once = copy.copy(hook)
        self._once.__dict__["settings"] = dataclasses.replace(hook.settings, max_retries=0)

    def newest_page(self, created_gte: int, created_lt: int) -> Page:
        """The range's first page (its newest objects), with Stripe's clock when it answered."""
        return self._page(self._query(created_gte, created_lt))

    def export(
        self, created_gte: int, created_lt: int, series: PartSeries, newest: Page | None = None
    ) -> list[Part]:
        """Write every object of the range into part series, and return the parts in order.

        :param newest: the range's :meth:`newest_page`, if already read (else read here).
        """
        first_query = self._query(created_gte, created_lt)
        first = (newest or self._page(first_query)).body
        slices = 1
        if first.get("has_more"):
            created = [int(obj["created"]) for obj in first.get("data") or []]
            slices = slice_count(created_gte, created_lt, estimated_objects(created_gte, created_lt, created))
        if slices == 1:
            with series("") as writer:
                self._write(first_query, first, writer)
                self._walk(next_page_params(first_query, first), writer)
            parts = writer.parts
        else:
            parts = self._concurrently(created_slices(created_gte, created_lt, slices), series)
        self._log.info("Listed %s", self.progress.line(self.pacer.rate_limited))
        return parts

    def _concurrently(self, slices: list[tuple[int, int]], series: PartSeries) -> list[Part]:
        threads = min(len(slices), MAX_THREADS, max(1, math.ceil(THREADS_PER_REQUEST_A_SECOND * self.budget)))
        self._widen_connection_pool(threads)
        self._log.info(
            "Listing %s in %d created slices, %d at a time, paced to %.1f requests a second (budget %g)",
            self._path,
            len(slices),
            threads,
            self.pacer.target,
            self.budget,
        )
        pool = ThreadPoolExecutor(threads, thread_name_prefix="stripe-export")
        try:
            futures = [
                pool.submit(self._slice, f"{index:05d}-", gte, lt, series)
                for index, (gte, lt) in enumerate(slices)
            ]
            self._wait(futures, len(slices))
            return [part for future in futures for part in future.result()]
        finally:
            self._stopping.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def _wait(self, futures: list[Future[list[Part]]], total: int) -> None:
        pending: set[Future[list[Part]]] = set(futures)
        while pending:
            done, pending = wait(pending, timeout=PROGRESS_EVERY, return_when=FIRST_EXCEPTION)
            failed = next((future for future in done if future.exception() is not None), None)
            if failed is not None:
                self._stopping.set()
                failed.result()  # raises the slice's error
            if pending:
                self._log.info(
                    "%s; %d of %d slices done",
                    self.progress.line(self.pacer.rate_limited),
                    self.progress.slices_done,
                    total,
                )

    def _slice(self, name: str, created_gte: int, created_lt: int, series: PartSeries) -> list[Part]:
        with series(name) as writer:
            self._walk(self._query(created_gte, created_lt), writer)
        self.progress.add(slices=1)
        return writer.parts

    def _walk(self, query: dict[str, Any] | None, writer: PartWriter) -> None:
        while query is not None:
            if self._stopping.is_set():
                raise _Stopped()
            page = self._page(query).body
            self._write(query, page, writer)
            query = next_page_params(query, page)

    def _write(self, query: Mapping[str, Any], page: Mapping[str, Any], writer: PartWriter) -> None:
        count = 0
        for obj in page_objects(query, page):
            writer.write(obj)
            count += 1
        self.progress.add(objects=count)

    def _query(self, created_gte: int, created_lt: int) -> dict[str, Any]:
        return first_page_params({**self._params, "created": {"gte": created_gte, "lt": created_lt}})

    def _page(self, query: Mapping[str, Any]) -> Page:
        """One page, each attempt paced; 429s slow the pacer down and wait a new turn."""
        for _ in range(MAX_THROTTLED):
            try:
                page = send_with_retries(self._hook.settings, lambda: self._attempt(query))
            except _Throttled:
                self.pacer.throttled()
                continue
            self.pacer.succeeded()
            return page
        return send_with_retries(self._hook.settings, lambda: self._attempt(query, last=True))

    def _attempt(self, query: Mapping[str, Any], last: bool = False) -> Page:
        self.pacer.acquire()
        self.progress.add(requests=1)
        try:
            return self._once.list_page(self._path, query)
        except StripeRateLimitError as error:
            if last:
                raise
            raise _Throttled(error) from error

    def _widen_connection_pool(self, threads: int) -> None:
        """A kept-alive connection per thread (requests keeps 10 to a host by default)."""
        from requests.adapters import HTTPAdapter

        self._hook.session.mount(self._hook.base_url, HTTPAdapter(pool_connections=1, pool_maxsize=threads))
