"""The watch's memory between runs: how far it has delivered, and which ids it already gave out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_stripe.exceptions import StripeValidationError

#: Where a cursor is stored: a sensor's XCom key, an event trigger's asset state key.
CURSOR_KEY = "stripe_cursor"
#: The cursor never remembers more ids than this (about 200 kB of JSON). A burst bigger than it
#: inside one lookback window narrows the lookback for that burst (oldest seconds are dropped).
MAX_REMEMBERED_IDS = 5000
#: Version 1 (release one) has no ``walk_from``; it is still written whenever the watch is caught
#: up, so that a downgrade reads it too. Version 2 adds the position of an unfinished backlog walk.
_CAUGHT_UP_VERSION = 1
_WALKING_VERSION = 2
#: A cursor learned by polls that delivered nothing is saved again once its floor has moved this far
#: on Stripe's clock (or sooner, when the ids it keeps change): a write an hour at most for a quiet
#: watch, and a stored floor never more than an hour behind (Stripe keeps events 30 days).
SAVE_FLOOR_EVERY_SECONDS = 3600


@dataclass(frozen=True)
class Cursor:
    """Where a watch over one Stripe list stands.

    ``watermark`` is the newest ``created`` delivered so far (or the start). ``floor`` is the oldest
    ``created`` that may still hold an object not delivered yet (one that showed up in the list late):
    every poll that lists from the floor delivers those. ``delivered`` holds every id already
    delivered with ``created >= floor``, so that listing from the floor never delivers one twice.
    ``walk_from`` is set while a backlog is being delivered: the id of the newest object handed out,
    from which the next poll walks toward newer objects one page per batch.
    """

    watermark: int
    floor: int
    delivered: Mapping[str, int] = field(default_factory=dict)
    walk_from: str | None = None

    @classmethod
    def starting_at(cls, epoch_seconds: int) -> Cursor:
        """A first cursor: objects created at or after ``epoch_seconds`` are news."""
        return cls(watermark=epoch_seconds, floor=epoch_seconds)

    def is_new(self, obj: Mapping[str, Any]) -> bool:
        return obj["created"] >= self.floor and obj["id"] not in self.delivered

    def after(
        self,
        batch: Iterable[Mapping[str, Any]],
        *,
        floor: int,
        walk_from: Mapping[str, Any] | None,
    ) -> Cursor:
        """The cursor once ``batch`` is delivered: the floor raised to ``floor`` (it never goes down)
        and, while a backlog remains, the walk continuing from the object ``walk_from``."""
        delivered = dict(self.delivered)
        delivered.update((obj["id"], int(obj["created"])) for obj in batch)
        watermark = max([self.watermark, *delivered.values()])
        # Ids newer than the walk's position are what keeps the walk from handing them out again.
        keep_from = watermark if walk_from is None else min(watermark, int(walk_from["created"]))
        floor = _floor_within_budget(delivered, max(self.floor, floor), keep_from)
        return Cursor(
            watermark=watermark,
            floor=floor,
            delivered={obj_id: created for obj_id, created in delivered.items() if created >= floor},
            walk_from=None if walk_from is None else str(walk_from["id"]),
        )

    def listed_until(self, created_lt: int, newest: int | None) -> Cursor:
        """The cursor once every object created before ``created_lt`` has been delivered (an export
        listing its backlog in one go): the floor moves up to ``created_lt``, and ids below it are
        forgotten. A backlog walk ahead of it goes on; one behind it is over.

        :param newest: the newest ``created`` that listing delivered, if it delivered any.
        """
        floor = max(self.floor, created_lt)
        walking = self.walk_from is not None and self.delivered.get(self.walk_from, floor - 1) >= floor
        return Cursor(
            watermark=max(self.watermark, self.watermark if newest is None else newest),
            floor=floor,
            delivered={obj_id: created for obj_id, created in self.delivered.items() if created >= floor},
            walk_from=self.walk_from if walking else None,
        )

    def worth_saving(self, saved: Cursor | None) -> bool:
        """Whether this cursor, learned by polls that delivered nothing, is worth storing over ``saved``.

        What the next run lists is set by the ids the cursor keeps and the walk's position: when
        either changed (the floor passed a settled burst), it is. Otherwise only the floor moved,
        and it is saved once that is :data:`SAVE_FLOOR_EVERY_SECONDS` ahead of the stored one.

        :param saved: the cursor stored now, or None when nothing is stored yet.
        """
        return (
            saved is None
            or self.walk_from != saved.walk_from
            or self.delivered.keys() != saved.delivered.keys()
            or self.floor >= saved.floor + SAVE_FLOOR_EVERY_SECONDS
        )

    def to_json(self) -> str:
        by_second: dict[int, list[str]] = {}
        for obj_id, created in sorted(self.delivered.items(), key=lambda item: (item[1], item[0])):
            by_second.setdefault(created, []).append(obj_id)
        data: dict[str, Any] = {
            "version": _CAUGHT_UP_VERSION if self.walk_from is None else _WALKING_VERSION,
            "watermark": self.watermark,
            "floor": self.floor,
            "delivered": {str(second): ids for second, ids in by_second.items()},
        }
        if self.walk_from is not None:
            data["walk_from"] = self.walk_from
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | Mapping[str, Any]) -> Cursor:
        """Read a cursor written by :meth:`to_json`, of this release or of release one."""
        try:
            data = json.loads(text) if isinstance(text, str) else dict(text)
            version = data.get("version")
            if version not in (_CAUGHT_UP_VERSION, _WALKING_VERSION):
                raise ValueError(f"unknown cursor version {version!r}")
            walk_from = data["walk_from"] if version == _WALKING_VERSION else None
            if walk_from is not None and not isinstance(walk_from, str):
                raise TypeError(f"walk_from is {walk_from!r}")
            return cls(
                watermark=int(data["watermark"]),
                floor=int(data["floor"]),
                delivered={
                    obj_id: int(second) for second, ids in data["delivered"].items() for obj_id in ids
                },
                walk_from=walk_from,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StripeValidationError(
                f"The stored stripe_cursor is unreadable ({error}). Delete it (a sensor's "
                "stripe_cursor XCom, or an event trigger's stripe_cursor asset state) to restart the "
                "watch from `start_from` (or from now).",
                param="stripe_cursor",
            ) from None


def _floor_within_budget(delivered: Mapping[str, int], floor: int, keep_from: int) -> int:
    """Raise ``floor`` one second at a time until the remembered ids fit the budget.

    Seconds from ``keep_from`` on (the watermark's, or the walk's position) are never dropped:
    those ids are what stops a re-delivery.
    """
    counts: dict[int, int] = {}
    for created in delivered.values():
        if created >= floor:
            counts[created] = counts.get(created, 0) + 1
    remembered = sum(counts.values())
    for second in sorted(counts):
        if remembered <= MAX_REMEMBERED_IDS or second >= keep_from:
            break
        remembered -= counts[second]
        floor = second + 1
    return floor
