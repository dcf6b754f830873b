"""A watch over Stripe Events (``GET /v1/events``): which types, refetching, and Stripe's 30-day retention.

Events ride on the same cursor and page walk as every other watched list (:mod:`.poll`); what is
theirs alone lives here, as pure steps that the sync sensor and the async triggers both drive:

- the event types: one ``type`` (``*`` as a wildcard, such as ``charge.*``) or up to 20 exact
  ``types`` (Stripe's API reference, "List all events");
- retention: Stripe lists events for 30 days only, so a cursor older than that on Stripe's clock
  (its ``Date`` header) has a gap no poll can fill; the poll fails naming it instead of skipping it;
- refetching: an event's ``data.object`` is a snapshot rendered in the account's API version when the
  event happened. ``refetch`` replaces it with the object as it is now, at the connection's pinned
  version; a deleted object becomes Stripe's tombstone ``{"id", "object", "deleted": true}``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_stripe.api.pages import Page
from airflow_provider_stripe.exceptions import StripeNotFoundError, StripeValidationError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import PollResult, Query, StripeObject, run_poll, run_poll_async
from airflow_provider_stripe.polling.watch import Watch
from airflow_provider_stripe.resources import RETRIEVABLE

EVENTS_PATH = "/v1/events"
MAX_EVENT_TYPES = 20
EVENT_RETENTION = timedelta(days=30)
_EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
_WILDCARD_TYPE = re.compile(r"(\*|[a-z0-9_]+)(\.(\*|[a-z0-9_]+))*")


def event_type_filters(event_types: str | Sequence[str]) -> dict[str, Any]:
    """The ``/v1/events`` filter for ``event_types``: ``type`` for one (wildcards allowed), else ``types``."""
    types = [event_types] if isinstance(event_types, str) else event_types
    if not isinstance(types, Sequence) or not types or not all(isinstance(t, str) for t in types):
        raise StripeValidationError(
            f"event_types must be a list of 1 to {MAX_EVENT_TYPES} Stripe event types "
            f"(such as ['charge.refunded']), got {event_types!r}.",
            param="event_types",
        )
    if len(types) > MAX_EVENT_TYPES:
        raise StripeValidationError(
            f"event_types holds {len(types)} types; Stripe filters by at most {MAX_EVENT_TYPES} "
            "(`types[]`). Use one wildcard type such as 'charge.*', or several sensors.",
            param="event_types",
        )
    if len(types) == 1:
        if not _WILDCARD_TYPE.fullmatch(types[0]):
            raise StripeValidationError(
                f"event_types: {types[0]!r} is not a Stripe event type (lowercase words joined by dots, "
                "such as 'charge.refunded', or one '*' part, such as 'charge.*').",
                param="event_types",
            )
        return {"type": types[0]}
    for event_type in types:
        if not _EVENT_TYPE.fullmatch(event_type):
            wildcard = " (a '*' wildcard works only with a single type)" if "*" in event_type else ""
            raise StripeValidationError(
                f"event_types: {event_type!r} is not an exact Stripe event type such as "
                f"'charge.refunded'{wildcard}.",
                param="event_types",
            )
    return {"types": list(dict.fromkeys(types))}


@dataclass(frozen=True)
class EventWatch:
    """A :class:`Watch` over ``/v1/events`` and whether to refetch each event's object."""

    watch: Watch
    refetch: bool = False

    @classmethod
    def checked(
        cls, event_types: str | Sequence[str], max_batch: Any, lookback: timedelta | float, refetch: bool
    ) -> EventWatch:
        """Validate the settings a user gave, naming the field at fault."""
        watch = Watch.checked(EVENTS_PATH, {}, max_batch, lookback)
        return cls(replace(watch, filters=event_type_filters(event_types)), bool(refetch))

    def poll(self, cursor: Cursor) -> EventSteps:
        return poll_events(self, cursor)


@dataclass(frozen=True)
class Fetch:
    """One GET a poll needs: the events list's next page, or an object to refetch."""

    path: str
    query: Query


#: Stripe's answer to a :class:`Fetch`, with its clock (an error is thrown in instead: :func:`poll_events`).
EventSteps = Generator[Fetch, Page, PollResult]


def poll_events(events: EventWatch, cursor: Cursor) -> EventSteps:
    """One poll of new events: the page walk of :func:`~.poll.poll`, checked against the retention
    window on every page, then (with ``refetch``) one retrieval per distinct object in the batch.

    The driver throws a Stripe error in where the answer would go: a 404 of a refetched object
    means it was deleted (its tombstone is delivered); any other error ends the poll."""
    steps = events.watch.poll(cursor)
    try:
        query = next(steps)
        while True:
            page = yield Fetch(EVENTS_PATH, query)
            check_retention(cursor, page.stripe_time)
            query = steps.send(page)
    except StopIteration as done:
        result: PollResult = done.value
    if not events.refetch:
        return result
    current: dict[str, StripeObject] = {}
    for event in result.objects:
        obj = event["data"]["object"]
        path = object_path(obj)
        if path is not None and path not in current:
            try:
                current[path] = dict((yield Fetch(path, {})).body)
            except StripeNotFoundError:
                current[path] = tombstone(obj)  # a refetched object Stripe no longer has
    return replace(result, objects=[_with_current(event, current) for event in result.objects])


def object_path(obj: Mapping[str, Any]) -> str | None:
    """The URL that retrieves ``obj``, or None for an object type the provider cannot retrieve."""
    resource = RETRIEVABLE.get(str(obj.get("object")))
    return resource.object_path(str(obj["id"])) if resource and obj.get("id") else None


def tombstone(obj: Mapping[str, Any]) -> StripeObject:
    """Stripe's answer for a deleted object (as ``GET /v1/customers/{id}`` gives for a deleted customer)."""
    return {"id": obj["id"], "object": obj["object"], "deleted": True}


def _with_current(event: StripeObject, current: Mapping[str, StripeObject]) -> StripeObject:
    path = object_path(event["data"]["object"])
    if path is None:
        return event
    return {**event, "data": {**event["data"], "object": current[path]}}


def retention_gap(since: int, stripe_time: int | None) -> str | None:
    """What is gone when events created from ``since`` on are wanted and Stripe's clock says
    ``stripe_time``: Stripe lists events for 30 days only. None while all of them are still listed."""
    if stripe_time is None:
        return None
    oldest_listed = stripe_time - int(EVENT_RETENTION.total_seconds())
    if since >= oldest_listed:
        return None
    return (
        f"events created from {_iso(since)} to {_iso(oldest_listed)} are gone from Stripe "
        f"(it is {_iso(stripe_time)} on Stripe's clock)"
    )


def check_retention(cursor: Cursor, stripe_time: int | None) -> None:
    """Fail when events the cursor has not delivered yet may already have left Stripe's 30-day window."""
    gap = retention_gap(undelivered_since(cursor), stripe_time)
    if gap is None:
        return
    raise StripeValidationError(
        f"Stripe keeps events for 30 days, and this watch's cursor is older: {gap}, so any change in "
        "that gap can no longer be delivered. Fill the gap with an export by data interval, e.g. "
        "StripeToObjectStorageOperator(resource='charges', window='data_interval') run over those "
        "dates (`airflow dags backfill`), then restart the watch: delete its stripe_cursor (the "
        "sensor's XCom, or the event trigger's asset state) and set start_from within the last 30 days.",
        param="stripe_cursor",
    )


def undelivered_since(cursor: Cursor) -> int:
    """The oldest ``created`` that may still hold an event the cursor has not delivered.

    That is the floor (it follows Stripe's clock while the watch keeps polling, so an idle watch
    never ages out), or, while a backlog is walked, the walk's position if older.
    """
    if cursor.walk_from is None:
        return cursor.floor
    return min(cursor.floor, cursor.delivered.get(cursor.walk_from, cursor.watermark))


def _iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_event_poll(steps: EventSteps, fetch: Callable[[str, Query], Page]) -> PollResult:
    """Drive :func:`poll_events` with a blocking ``fetch(path, query)`` (``StripeHook.list_page``)."""
    return run_poll(steps, lambda request: fetch(request.path, request.query))


async def run_event_poll_async(
    steps: EventSteps, fetch: Callable[[str, Query], Awaitable[Page]]
) -> PollResult:
    """Drive :func:`poll_events` with an async ``fetch`` (``StripeHook.alist_page``)."""
    return await run_poll_async(steps, lambda request: fetch(request.path, request.query))
