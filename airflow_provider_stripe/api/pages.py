"""Walking a Stripe list one page at a time, in either direction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from airflow_provider_stripe.exceptions import StripeAPIError

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    """One answer to a list request: Stripe's list object, and Stripe's clock when it answered."""

    body: Mapping[str, Any]
    stripe_time: int | None = None

    def clock(self, path: str) -> datetime:
        """Stripe's clock when it answered this page of the list at ``path``.

        :raises StripeAPIError: when the answer had no readable ``Date`` header.
        """
        if self.stripe_time is None:
            raise StripeAPIError(f"Stripe answered GET {path} without a readable Date header.")
        return datetime.fromtimestamp(self.stripe_time, timezone.utc)


def stripe_time(date: str | None) -> int | None:
    """Stripe's clock, in epoch seconds, from the ``Date`` header of its answer (RFC 9110 5.6.7).

    A watch moves its floor with this clock, never the worker's, which may be minutes off.
    """
    value = date
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC with no source offset
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def first_page_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The query of the first page: the caller's filters, 100 objects a page unless they chose."""
    query = dict(params or {})
    query.setdefault("limit", MAX_PAGE_SIZE)
    return query


def oldest_first(query: Mapping[str, Any]) -> bool:
    """With ``ending_before`` Stripe pages toward newer objects, so the walk runs oldest first."""
    return query.get("ending_before") is not None and query.get("starting_after") is None


def page_objects(query: Mapping[str, Any], page: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The page's objects in walking order (Stripe lists every page newest first)."""
    data: Sequence[dict[str, Any]] = page.get("data") or []
    return reversed(data) if oldest_first(query) else iter(data)


def next_page_params(query: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any] | None:
    """The query of the page after ``page``, or None when the walk is over."""
    data: Sequence[dict[str, Any]] = page.get("data") or []
    if not page.get("has_more") or not data:
        return None
    following = dict(query)
    if oldest_first(query):
        following["ending_before"] = data[0]["id"]
    else:
        following["starting_after"] = data[-1]["id"]
    return following
