"""A tiny model of one Stripe list, for testing the polling arithmetic without HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_stripe.api.pages import Page


@dataclass
class FakeList:
    """Objects ordered like Stripe lists them: newest ``created`` first, later-made first in a second.

    Answers carry Stripe's clock (``now``) as the ``Date`` header would; ``ending_before`` takes the
    ``limit`` objects just newer than the given one, as Stripe's list pagination documents
    (https://docs.stripe.com/api/pagination).
    """

    now: int = 0
    objects: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    visible_at: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    queries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, created: int, *, delay: int = 0) -> str:
        obj_id = f"ch_{len(self.objects):05d}"
        self.objects.append({"id": obj_id, "object": "charge", "created": created})
        self.visible_at[obj_id] = created + delay
        return obj_id

    def page(self, query: Mapping[str, Any]) -> Page:
        self.requests += 1
        self.queries.append(dict(query))
        floor = query.get("created", {}).get("gte", 0)
        listed = [
            o
            for o in sorted(self.objects, key=lambda o: (o["created"], o["id"]), reverse=True)
            if o["created"] >= floor and self.visible_at[o["id"]] <= self.now
        ]
        ids = [o["id"] for o in listed]
        limit = int(query["limit"])
        if "ending_before" in query:
            before = listed[: ids.index(query["ending_before"])]
            data = before[-limit:]
            return Page({"object": "list", "data": data, "has_more": len(before) > limit}, self.now)
        if "starting_after" in query:
            listed = listed[ids.index(query["starting_after"]) + 1 :]
        return Page({"object": "list", "data": listed[:limit], "has_more": len(listed) > limit}, self.now)
