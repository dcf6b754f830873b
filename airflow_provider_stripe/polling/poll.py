"""One poll of a Stripe list: which requests to send, and what is news in the answers.

:func:`poll` is a generator that yields each page's query and receives the page, so that the
sync hook and the async trigger can drive it with their own HTTP clients::

    steps = poll(...)
    query = next(steps)
    while True:
        query = steps.send(fetch(query))   # StopIteration.value is the PollResult
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_stripe.api.pages import first_page_params, next_page_params
from airflow_provider_stripe.polling.cursor import Cursor

StripeObject = dict[str, Any]
Query = dict[str, Any]


@dataclass(frozen=True)
class PollResult:
    """The news of one poll, oldest first (at most ``max_batch``), and the cursor after them."""

    objects: list[StripeObject]
    cursor: Cursor
    pages: int


PollSteps = Generator[Query, Mapping[str, Any], "PollResult"]


def poll(cursor: Cursor, filters: Mapping[str, Any], *, max_batch: int, lookback_seconds: int) -> PollSteps:
    """List everything created since the cursor's floor and pick the oldest new objects.

    Stripe lists newest first, so the walk runs from the newest object down to the floor, keeping
    only the last ``max_batch`` new objects seen: those are the oldest. Memory stays at one page
    plus one batch, whatever the backlog; the rest of a backlog comes in the next poll.
    """
    query: Query | None = first_page_params(
        {**{k: v for k, v in filters.items() if v}, "created": {"gte": cursor.floor}}
    )
    oldest_news: deque[StripeObject] = deque(maxlen=max_batch)
    pages = 0
    while query is not None:
        page = yield query
        pages += 1
        oldest_news.extend(obj for obj in page.get("data") or [] if cursor.is_new(obj))
        query = next_page_params(query, page)
    batch = list(reversed(oldest_news))
    return PollResult(objects=batch, cursor=cursor.advance(batch, lookback_seconds), pages=pages)


def run_poll(steps: PollSteps, fetch: Callable[[Query], Mapping[str, Any]]) -> PollResult:
    """Drive :func:`poll` with a blocking page fetcher."""
    try:
        query = next(steps)
        while True:
            query = steps.send(fetch(query))
    except StopIteration as done:
        result: PollResult = done.value
        return result


async def run_poll_async(
    steps: PollSteps, fetch: Callable[[Query], Awaitable[Mapping[str, Any]]]
) -> PollResult:
    """Drive :func:`poll` with an async page fetcher."""
    try:
        query = next(steps)
        while True:
            query = steps.send(await fetch(query))
    except StopIteration as done:
        result: PollResult = done.value
        return result
