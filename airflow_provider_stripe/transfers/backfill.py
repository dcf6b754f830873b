"""Listing a ``created`` range at Stripe's rate limit: slices walked side by side, paced, in order.

One list walk is one page per round trip: with Stripe's answers at 0.2 to 1 s that is 1 to 5
requests a second, a fifth or less of a sandbox's 25. Here the range is cut into ``created``
slices (:mod:`.slices`) and a pool of threads walks them concurrently, every request waiting its
turn at one pacer (:mod:`.paced_requests`). Each slice writes its own series of part files, so
memory stays at the pages being written and the parts, listed slice by slice, come out in a fixed
order: the order of one walk over the whole range.

A range whose first page has no more behind it is that one page (one request, as before). Otherwise
the page's objects newer than its oldest second are written as they are, and the rest of the range
is cut by the page's density; a slice whose own first page shows it denser than its share is cut
again. The range's first page, its newest, also carries Stripe's clock (its ``Date`` header): the
export reads it as its lookback check (:meth:`CreatedRangeLister.newest_page`), so one round trip
both sizes the slices and says whether the range may be listed yet, and it is not asked again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_stripe.api.pages import first_page_params, next_page_params, page_objects
from airflow_provider_stripe.transfers.jsonl import Part, PartWriter
from airflow_provider_stripe.transfers.paced_requests import MAX_THREADS, PacedRequests
from airflow_provider_stripe.transfers.slices import MAX_SLICES, Slice, split_after_page

if TYPE_CHECKING:
    from airflow_provider_stripe.api.pages import Page

#: Seconds between progress lines in the task log.
PROGRESS_EVERY = 10.0

#: Opens the part series of one slice (``""`` for an unsliced range, ``"00003-"`` for slice 3).
PartSeries = Callable[[str], PartWriter]
#: Which listed objects to write (the incremental window skips those it delivered before).
Keep = Callable[[Mapping[str, Any]], bool]


class TaskLog(Protocol):
    """Where progress goes: the task's logger (a ``logging.Logger`` or Airflow 3's structlog one)."""

    def info(self, event: Any, *args: Any, **kwargs: Any) -> Any: ...


class _Stopped(Exception):
    """Another slice failed: this one stops at its next page."""


class Progress:
    """Counts shared by the threads: objects written, slices cut and done."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.objects = 0
        self.slices = 1
        self.slices_done = 0
        self._lock = threading.Lock()

    def add(self, *, objects: int = 0, slices: int = 0, done: int = 0) -> None:
        with self._lock:
            self.objects += objects
            self.slices += slices
            self.slices_done += done

    def line(self, requests: PacedRequests) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (
            f"{self.objects:,} objects in {elapsed:.1f} s: {self.objects / elapsed:,.0f} objects/s, "
            f"{requests.sent / elapsed:.1f} requests/s ({requests.sent:,} requests, "
            f"{requests.pacer.rate_limited} answered 429)"
        )


@dataclass
class _Listed:
    """What one slice's thread did: its own parts, and the slices it cut from its rest (in order)."""

    parts: list[Part]
    slices: list[Future[_Listed]] = field(default_factory=list)


class CreatedRangeLister:
    """List ``path`` over ``created_gte <= created < created_lt`` within the export's budget.

    :param requests: the export's paced requests (its budget, the connection's key and retries).
    :param path: the list's API path, e.g. ``/v1/charges``.
    :param params: other list parameters (filters, ``expand``); not ``created`` or paging.
    :param log: where progress goes (the task's log).
    :param keep: which objects to write (default: all).
    """

    def __init__(
        self,
        requests: PacedRequests,
        path: str,
        params: Mapping[str, Any],
        *,
        log: TaskLog,
        keep: Keep | None = None,
    ) -> None:
        self._path = path
        self._params = dict(params)
        self._log = log
        self._keep = keep
        self.requests = requests
        self.progress = Progress()
        self._stopping = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._series: PartSeries = _no_series
        self._futures: list[Future[_Listed]] = []
        self._futures_lock = threading.Lock()

    def newest_page(self, created_gte: int | None, created_lt: int | None) -> Page:
        """The range's first page (its newest objects), with Stripe's clock when it answered."""
        return self.requests.list_page(self._path, self._query(created_gte, created_lt))

    def export(
        self, created_gte: int | None, created_lt: int | None, series: PartSeries, newest: Page | None = None
    ) -> list[Part]:
        """Write every object of the range into part series, and return the parts in order.

        :param created_gte: the range's lower bound; None: from the list's oldest object.
        :param created_lt: its upper bound; None: up to the newest.
        :param newest: the range's :meth:`newest_page`, if already read (else read here).
        """
        first = newest or self.newest_page(created_gte, created_lt)
        if not first.body.get("has_more"):
            with series("") as writer:
                self._write(first.body.get("data") or [], writer)
            parts = writer.parts
        else:
            parts = self._concurrently(created_gte, created_lt, first, series)
        self._log.info("Listed %s", self.progress.line(self.requests))
        return parts

    def _concurrently(self, gte: int | None, lt: int | None, first: Page, series: PartSeries) -> list[Part]:
        # A thread for every slice as soon as it is cut (up to MAX_THREADS): a slice waiting for a
        # thread would start its chain of round trips late, and end the export late. The pacer, not
        # the threads, decides how many requests are in flight.
        self.requests.widen_connection_pool(MAX_THREADS)
        self._log.info(
            "Listing %s in created slices, up to %d at a time, paced to %.1f requests a second (budget %g)",
            self._path,
            MAX_THREADS,
            self.requests.pacer.target,
            self.requests.budget,
        )
        self._series = series
        self._pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="stripe-export")
        try:
            root = self._submit("", gte, lt, first)
            self._wait()
            return _in_order(root)
        finally:
            self._stopping.set()
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(
        self, name: str, gte: int | None, lt: int | None, first: Page | None = None
    ) -> Future[_Listed]:
        assert self._pool is not None
        future = self._pool.submit(self._slice, name, gte, lt, first)
        with self._futures_lock:
            self._futures.append(future)
        return future

    def _wait(self) -> None:
        """Until every slice, including those cut along the way, is listed; raise the first failure."""
        while True:
            with self._futures_lock:
                pending = [future for future in self._futures if not future.done()]
                failed = next((f for f in self._futures if f.done() and f.exception() is not None), None)
            if failed is not None:
                self._stopping.set()
                failed.result()  # raises the slice's error
            if not pending:
                return
            done, _ = wait(pending, timeout=PROGRESS_EVERY, return_when=FIRST_EXCEPTION)
            if not done:
                self._log.info(
                    "%s; %d of %d slices done",
                    self.progress.line(self.requests),
                    self.progress.slices_done,
                    self.progress.slices,
                )

    def _slice(self, name: str, gte: int | None, lt: int | None, first: Page | None) -> _Listed:
        """List one slice page after page; after any page that shows much more below it than a few
        pages, cut the rest into slices of its own (listed by other threads) and stop."""
        query: dict[str, Any] | None = self._query(gte, lt)
        page = first
        top, walked, split = lt, False, None
        with self._series(name) as writer:
            while query is not None:
                if self._stopping.is_set():
                    raise _Stopped()
                body = (page or self.requests.list_page(self._path, query)).body
                page = None
                created = [int(obj["created"]) for obj in body.get("data") or []]
                split = self._split(gte, top, walked, body, created)
                if split is not None:
                    own_from = split[0]
                    self._write((obj for obj in body["data"] if int(obj["created"]) >= own_from), writer)
                    break
                self._write(page_objects(query, body), writer)
                query = next_page_params(query, body)
                top, walked = (min(created) + 1 if created else top), True
                del body  # memory: no page is held while the next one is awaited
        listed = _Listed(writer.parts)
        if split is not None:
            self.progress.add(slices=len(split[1]))
            listed.slices = [
                self._submit(f"{name}{index:05d}-", child_gte, child_lt)
                for index, (child_gte, child_lt) in enumerate(split[1])
            ]
        self.progress.add(done=1)
        return listed

    def _split(
        self, gte: int | None, top: int | None, walked: bool, body: Mapping[str, Any], created: list[int]
    ) -> tuple[int, list[Slice]] | None:
        """Where to cut after this page (see :func:`.slices.split_after_page`), or None to walk on."""
        if not body.get("has_more") or not created or self.progress.slices >= MAX_SLICES:
            return None
        if walked and top is not None and min(created) + 1 >= top:  # still the last page's oldest second
            return None
        return split_after_page(gte, top, created)

    def _write(self, objects: Any, writer: PartWriter) -> None:
        count = 0
        for obj in objects:
            if self._keep is None or self._keep(obj):
                writer.write(obj)
                count += 1
        self.progress.add(objects=count)

    def _query(self, created_gte: int | None, created_lt: int | None) -> dict[str, Any]:
        created = {
            bound: value for bound, value in (("gte", created_gte), ("lt", created_lt)) if value is not None
        }
        return first_page_params({**self._params, **({"created": created} if created else {})})


def _in_order(listed: Future[_Listed]) -> list[Part]:
    """The parts of a slice and of the slices cut from it, in the order of one walk (newest first)."""
    done = listed.result()
    return done.parts + [part for child in done.slices for part in _in_order(child)]


def _no_series(name: str) -> PartWriter:
    raise AssertionError("the part series are given to export()")
