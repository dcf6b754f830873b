"""A tiny model of one Stripe list, for testing the polling arithmetic without HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeList:
    """Objects ordered like Stripe lists them: newest ``created`` first, later-made first in a second."""

    now: int = 0
    objects: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    visible_at: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def add(self, created: int, *, delay: int = 0) -> str:
        obj_id = f"ch_{len(self.objects):05d}"
        self.objects.append({"id": obj_id, "object": "charge", "created": created})
        self.visible_at[obj_id] = created + delay
        return obj_id

    def page(self, query: Mapping[str, Any]) -> dict[str, Any]:
        self.requests += 1
        floor = query["created"]["gte"]
        listed = [
            o
            for o in sorted(self.objects, key=lambda o: (o["created"], o["id"]), reverse=True)
            if o["created"] >= floor and self.visible_at[o["id"]] <= self.now
        ]
        if "starting_after" in query:
            ids = [o["id"] for o in listed]
            listed = listed[ids.index(query["starting_after"]) + 1 :]
        limit = int(query["limit"])
        return {"object": "list", "data": listed[:limit], "has_more": len(listed) > limit}
