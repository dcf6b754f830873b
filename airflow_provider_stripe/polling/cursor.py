"""The sensor's memory between runs: how far it has delivered, and which ids it already gave out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_stripe.exceptions import StripeValidationError

#: The cursor never remembers more ids than this (about 200 kB of JSON). A burst bigger than it
#: inside one lookback window narrows the lookback for that burst (oldest seconds are dropped).
MAX_REMEMBERED_IDS = 5000
_VERSION = 1


@dataclass(frozen=True)
class Cursor:
    """Where a watch over one Stripe list stands.

    ``watermark`` is the newest ``created`` delivered so far (or the start). ``floor`` is the oldest
    ``created`` still listed on each poll: objects that show up late, but no older than the floor,
    are still delivered. ``delivered`` holds every id already delivered with ``created >= floor``,
    so that re-listing the lookback window never delivers one twice.
    """

    watermark: int
    floor: int
    delivered: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def starting_at(cls, epoch_seconds: int) -> Cursor:
        """A first cursor: objects created at or after ``epoch_seconds`` are news."""
        return cls(watermark=epoch_seconds, floor=epoch_seconds)

    def is_new(self, obj: Mapping[str, Any]) -> bool:
        return obj["created"] >= self.floor and obj["id"] not in self.delivered

    def advance(self, batch: Iterable[Mapping[str, Any]], lookback_seconds: int) -> Cursor:
        """The cursor after ``batch`` was delivered."""
        delivered = dict(self.delivered)
        delivered.update((obj["id"], int(obj["created"])) for obj in batch)
        if len(delivered) == len(self.delivered):
            return self
        watermark = max(self.watermark, *delivered.values())
        floor = max(self.floor, watermark - lookback_seconds)
        floor = _floor_within_budget(delivered, floor, watermark)
        return Cursor(
            watermark=watermark,
            floor=floor,
            delivered={obj_id: created for obj_id, created in delivered.items() if created >= floor},
        )

    def to_json(self) -> str:
        by_second: dict[int, list[str]] = {}
        for obj_id, created in sorted(self.delivered.items(), key=lambda item: (item[1], item[0])):
            by_second.setdefault(created, []).append(obj_id)
        return json.dumps(
            {
                "version": _VERSION,
                "watermark": self.watermark,
                "floor": self.floor,
                "delivered": {str(second): ids for second, ids in by_second.items()},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | Mapping[str, Any]) -> Cursor:
        """Read a cursor written by :meth:`to_json` (or its already-decoded dict)."""
        try:
            data = json.loads(text) if isinstance(text, str) else dict(text)
            if data.get("version") != _VERSION:
                raise ValueError(f"unknown cursor version {data.get('version')!r}")
            return cls(
                watermark=int(data["watermark"]),
                floor=int(data["floor"]),
                delivered={
                    obj_id: int(second) for second, ids in data["delivered"].items() for obj_id in ids
                },
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StripeValidationError(
                f"The stored stripe_cursor is unreadable ({error}). Delete it (a sensor's "
                "stripe_cursor XCom, or an event trigger's stripe_cursor asset state) to restart the "
                "watch from `start_from` (or from now).",
                param="stripe_cursor",
            ) from None


def _floor_within_budget(delivered: Mapping[str, int], floor: int, watermark: int) -> int:
    """Raise ``floor`` one second at a time until the remembered ids fit the budget.

    The watermark's own second is never dropped: those ids are what stops a re-delivery.
    """
    counts: dict[int, int] = {}
    for created in delivered.values():
        if created >= floor:
            counts[created] = counts.get(created, 0) + 1
    remembered = sum(counts.values())
    for second in sorted(counts):
        if remembered <= MAX_REMEMBERED_IDS or second >= watermark:
            break
        remembered -= counts[second]
        floor = second + 1
    return floor
