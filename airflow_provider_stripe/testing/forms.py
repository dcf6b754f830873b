"""Decode Stripe's bracketed form encoding back into nested dicts and lists.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` parameters whose keys spell a path:
``shipping[address][line1]=x`` is a nested hash, ``images[0]=a&images[1]=b`` (as stripe-python sends)
or ``expand[]=a`` is an array. aiohttp parses the query string and body into pairs; this module only
turns those flat pairs into the structure Stripe's endpoints see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from airflow_provider_stripe.testing.errors import invalid

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``(key, value)`` pairs; a later plain value for the same key wins, as on Stripe."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        segments = _segments(key)
        node = root
        for depth, segment in enumerate(segments):
            name = _name(segments[: depth + 1])
            if segment == "":  # ``a[]``: the next element of an array
                segment = str(len(node))
            if depth == len(segments) - 1:
                if isinstance(node.get(segment), dict):
                    raise _conflict(name)
                node[segment] = value
                break
            child = node.setdefault(segment, {})
            if not isinstance(child, dict):
                raise _conflict(name)
            node = child
    return {name: _arrays(value) for name, value in root.items()}


def _segments(key: str) -> list[str]:
    match = _KEY.fullmatch(key)
    if match is None:  # not bracket syntax at all: a literal name
        return [key]
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _name(segments: list[str]) -> str:
    return segments[0] + "".join(f"[{segment}]" for segment in segments[1:])


def _arrays(value: Any) -> Any:
    """A hash whose keys are all indexes is an array, ordered by index."""
    if not isinstance(value, dict):
        return value
    items = {key: _arrays(child) for key, child in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _conflict(name: str) -> Exception:
    return invalid(name, f"Invalid value for {name}: it was sent both as a single value and as a hash.")
