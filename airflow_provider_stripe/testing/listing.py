"""List endpoints' shared parameters (``limit``, cursors, ``created``) and the list object.

Stripe's rules: ``limit`` 1-100 (default 10); ``starting_after`` and ``ending_before`` are exclusive;
``created`` is an exact epoch second or a hash of ``gt``/``gte``/``lt``/``lte``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_stripe.testing.errors import invalid
from airflow_provider_stripe.testing.params import Field, Schema, integer, parse, text, texts
from airflow_provider_stripe.testing.store import Collection, ListWindow, Record

MAX_LIMIT = 100
DEFAULT_LIMIT = 10

_BOUNDS: Schema = {bound: integer() for bound in ("gt", "gte", "lt", "lte")}


def _created(param: str, value: Any) -> tuple[int | None, int | None]:
    """``created`` as an inclusive (min, max) range of epoch seconds."""
    if not isinstance(value, dict):
        exact: int = integer().coerce(param, value)
        return exact, exact
    bounds = parse(value, _BOUNDS, prefix=param)
    lows = [bounds[key] + (key == "gt") for key in ("gt", "gte") if bounds.get(key) is not None]
    highs = [bounds[key] - (key == "lt") for key in ("lt", "lte") if bounds.get(key) is not None]
    return (max(lows) if lows else None), (min(highs) if highs else None)


LIST_SCHEMA: Schema = {
    "limit": integer(),
    "starting_after": text(),
    "ending_before": text(),
    "created": Field(_created),
    "expand": texts(),
}


def window(params: Mapping[str, Any]) -> ListWindow:
    limit = params.get("limit")
    if limit is None:
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"Invalid limit: must be between 1 and {MAX_LIMIT}")
    if params.get("starting_after") and params.get("ending_before"):
        raise invalid(
            "ending_before",
            "You may only specify one of these parameters: ending_before, starting_after.",
            "parameters_exclusive",
        )
    created_min, created_max = params.get("created") or (None, None)
    return ListWindow(
        limit, params.get("starting_after"), params.get("ending_before"), created_min, created_max
    )


def field_filter(params: Mapping[str, Any], names: tuple[str, ...]) -> Callable[[Record], bool]:
    """Stripe's exact-match list filters (``customer=``, ``charge=``, ``email=``...) that were sent."""
    wanted = {name: params[name] for name in names if params.get(name) is not None}
    return lambda record: all(record.obj.get(name) == value for name, value in wanted.items())


def list_page(
    collection: Collection,
    params: Mapping[str, Any],
    url: str,
    include: Callable[[Record], bool],
) -> dict[str, Any]:
    """A Stripe list object for one page of ``collection``."""
    records, has_more = collection.page(window(params), include)
    return list_object([record.obj for record in records], has_more, url)


def list_object(data: list[dict[str, Any]], has_more: bool, url: str) -> dict[str, Any]:
    """Stripe's list object, for a list endpoint's page or a list nested in an object (``charge.refunds``)."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
