"""Form encoding of request parameters, the way Stripe's own libraries send them."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode


def encode_params(params: Mapping[str, Any] | None) -> str:
    """Encode ``params`` as Stripe expects an ``application/x-www-form-urlencoded`` body or query.

    Nested dicts become ``a[b][c]``, lists ``a[0]``, ``a[1]``; booleans ``true``/``false``;
    datetimes epoch seconds; ``None`` is dropped and an empty string kept (it unsets a field).
    This matches stripe-python's ``_api_encode`` except for booleans and ``None`` inside lists,
    which stripe-python sends as ``True``/``None`` and Stripe would reject.
    """
    return urlencode(list(_flatten(params or {}, prefix=None)))


def _flatten(value: Mapping[str, Any], prefix: str | None) -> Iterator[tuple[str, str]]:
    for key, item in value.items():
        name = str(key) if prefix is None else f"{prefix}[{key}]"
        yield from _pairs(name, item)


def _pairs(name: str, item: Any) -> Iterator[tuple[str, str]]:
    if item is None:
        return
    if isinstance(item, Mapping):
        yield from _flatten(item, prefix=name)
    elif isinstance(item, (list, tuple)):
        for index, element in enumerate(item):
            yield from _pairs(f"{name}[{index}]", element)
    elif isinstance(item, bool):
        yield name, "true" if item else "false"
    elif isinstance(item, datetime.datetime):
        yield name, str(int(item.timestamp()))
    else:
        yield name, str(item)
