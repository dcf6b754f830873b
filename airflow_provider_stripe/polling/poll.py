"""One poll of a Stripe list: which requests to send, and what is news in the answers.

:func:`poll` is a generator that yields each page's query and receives the :class:`Page`, so that the
sync hook and the async trigger can drive it with their own HTTP clients, through one driver
(:func:`run_poll_async`, which :func:`run_poll` runs without an event loop; the events poll too)::

    steps = poll(...)
    query = next(steps)
    while True:
        query = steps.send(fetch(query))   # StopIteration.value is the PollResult

A poll does one of two walks. Caught up, it *lists* from the cursor's floor (newest first, to the
floor) and delivers the oldest news: an idle poll is one request once the newest objects are older
than the lookback, whatever burst came before, because the floor then follows Stripe's clock (the
``Date`` of its answers) minus the lookback. Behind (a batch was full), it *walks* toward newer
objects with ``ending_before`` from the last object it delivered: one request per page of news, a
backlog costs its pages. When the walk reaches the newest object, one listing from the floor
delivers whatever showed up in the list late behind the walk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_stripe.api.pages import Page, first_page_params, next_page_params, page_objects
from airflow_provider_stripe.exceptions import StripeError
from airflow_provider_stripe.polling.cursor import Cursor

StripeObject = dict[str, Any]
Query = dict[str, Any]


@dataclass(frozen=True)
class PollResult:
    """The news of one poll, oldest first (at most ``max_batch``), and the cursor after them."""

    objects: list[StripeObject]
    cursor: Cursor
    pages: int


PollSteps = Generator[Query, Page, PollResult]

Request = TypeVar("Request")
Answer = TypeVar("Answer")
Result = TypeVar("Result")


def poll(cursor: Cursor, filters: Mapping[str, Any], *, max_batch: int, lookback_seconds: int) -> PollSteps:
    """One poll of the list under ``filters`` from ``cursor``: a walk while behind, else a listing."""
    filters = {name: value for name, value in filters.items() if value}
    if cursor.walk_from is None:
        return (yield from _listing(cursor, filters, max_batch, lookback_seconds, pages=0))
    return (yield from _walk(cursor, filters, max_batch, lookback_seconds))


def _walk(cursor: Cursor, filters: Query, max_batch: int, lookback_seconds: int) -> PollSteps:
    """Walk toward newer objects from ``cursor.walk_from``, a page per request, until a batch is full."""
    query: Query | None = first_page_params({**filters, "ending_before": cursor.walk_from})
    batch: list[StripeObject] = []
    pages = 0
    stripe_now: int | None = None
    while query is not None and len(batch) < max_batch:
        try:
            page = yield query
        except StripeError as error:
            if not _walk_anchor_deleted(error):
                raise
            # The object the walk goes on from is gone (a deleted customer or product is no cursor):
            # the listing from the floor delivers the same news, and its batch gives a new anchor.
            return (yield from _listing(cursor, filters, max_batch, lookback_seconds, pages=pages + 1))
        pages += 1
        stripe_now = stripe_now if stripe_now is not None else page.stripe_time
        for obj in page_objects(query, page.body):
            # Objects ahead of the walk are news unless delivered: the floor does not apply to them.
            if obj["id"] not in cursor.delivered:
                batch.append(obj)
                if len(batch) == max_batch:
                    break
        query = next_page_params(query, page.body)
    if len(batch) == max_batch:
        return PollResult(batch, cursor.after(batch, floor=cursor.floor, walk_from=batch[-1]), pages)
    if cursor.floor <= cursor.watermark:
        # Caught up, with objects behind the walk that may have shown up late: the one listing from
        # the floor delivers them, and the walk's own news with them, oldest first.
        return (yield from _listing(cursor, filters, max_batch, lookback_seconds, pages=pages))
    floor = _clock_floor(stripe_now, cursor.watermark, lookback_seconds)
    return PollResult(batch, cursor.after(batch, floor=floor, walk_from=None), pages)


def _walk_anchor_deleted(error: StripeError) -> bool:
    """Stripe's answer to ``ending_before`` naming a deleted object: 400 ``resource_missing`` on that
    parameter (Stripe's pagination cursors must be live objects)."""
    return error.code == "resource_missing" and error.param == "ending_before"


def _listing(
    cursor: Cursor, filters: Query, max_batch: int, lookback_seconds: int, *, pages: int
) -> PollSteps:
    """List everything created since the floor, newest first, and keep the oldest news.

    Only the last ``max_batch`` news seen are kept: those are the oldest. Memory stays at one page
    plus one batch, whatever the backlog; the rest of a backlog comes by walking in the next polls.
    """
    query: Query | None = first_page_params({**filters, "created": {"gte": cursor.floor}})
    oldest_news: deque[tuple[int, StripeObject]] = deque(maxlen=max_batch)
    news = 0
    newest_delivered = -1  # list position of the newest object seen that was delivered before
    position = 0
    stripe_now: int | None = None
    while query is not None:
        page = yield query
        pages += 1
        stripe_now = stripe_now if stripe_now is not None else page.stripe_time
        for obj in page.body.get("data") or []:
            if cursor.is_new(obj):
                oldest_news.append((position, obj))
                news += 1
            elif newest_delivered < 0:
                newest_delivered = position
            position += 1
        query = next_page_params(query, page.body)
    batch = [obj for _, obj in reversed(oldest_news)]
    floor = _clock_floor(
        stripe_now, max([cursor.watermark, *(o["created"] for o in batch)]), lookback_seconds
    )
    if news <= max_batch:
        return PollResult(batch, cursor.after(batch, floor=floor, walk_from=None), pages)
    # Behind: the walk goes on from the newest object of this batch. Delivered objects ahead of it
    # must stay remembered, so that the walk skips them: the floor stays at or below its second.
    newest = batch[-1]
    if 0 <= newest_delivered < oldest_news[0][0]:
        floor = min(floor, int(newest["created"]))
    return PollResult(batch, cursor.after(batch, floor=floor, walk_from=newest), pages)


def _clock_floor(stripe_now: int | None, watermark: int, lookback_seconds: int) -> int:
    """The oldest ``created`` that may not have been visible yet: Stripe's clock minus the lookback.

    Without a ``Date`` header, the newest delivered ``created`` stands in for Stripe's clock (as in
    release one): it can only be earlier, so the floor is lower and nothing is skipped.
    """
    return (watermark if stripe_now is None else stripe_now) - lookback_seconds


async def run_poll_async(
    steps: Generator[Request, Answer, Result], fetch: Callable[[Request], Awaitable[Answer]]
) -> Result:
    """Drive a poll's steps (:func:`poll`, :func:`~.events.poll_events`) with an async ``fetch``.

    A Stripe error is thrown into the steps, which decide what it means (most let it propagate).
    """
    try:
        request = next(steps)
        while True:
            try:
                answer = await fetch(request)
            except StripeError as error:
                request = steps.throw(error)
            else:
                request = steps.send(answer)
    except StopIteration as done:
        result: Result = done.value
        return result


def run_poll(steps: Generator[Request, Answer, Result], fetch: Callable[[Request], Answer]) -> Result:
    """:func:`run_poll_async` with a blocking ``fetch``: the one driver, run without an event loop.

    Nothing in it awaits anything but ``fetch``, which here returns at once, so the coroutine
    finishes on its first step.
    """

    async def fetched(request: Request) -> Answer:
        return fetch(request)

    driver = run_poll_async(steps, fetched)
    try:
        driver.send(None)
    except StopIteration as done:
        result: Result = done.value
        return result
    driver.close()
    raise AssertionError("unreachable: the driver awaited something other than fetch")
