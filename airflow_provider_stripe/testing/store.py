"""Where objects live: per mode, per kind, kept in Stripe's list order so a page costs O(page).

Stripe lists newest first, and objects created in the same second come out in a stable order (later
created first). Each :class:`Collection` therefore keeps its records sorted by ``(created, seq)``,
``seq`` being a global creation counter, and answers a list request by walking from a bisected start
position: a page of 100 out of 10,000 objects looks at about 100 records, not 10,000.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_stripe.testing.cards import KnownCard
from airflow_provider_stripe.testing.errors import resource_missing


@dataclass(eq=False)
class Record:
    obj: dict[str, Any]
    """The object as the API returns it; handlers update it in place (a refund updates its charge)."""
    seq: int
    visible_at: float
    """Emulated time from which lists show the record (creation time plus the visibility delay)."""
    deleted: bool = False
    key: tuple[int, int] = field(init=False)
    """``(created, seq)``: the list order, fixed at creation (a deleted customer keeps its place)."""

    def __post_init__(self) -> None:
        self.key = (int(self.obj["created"]), self.seq)

    @property
    def id(self) -> str:
        return str(self.obj["id"])


@dataclass(frozen=True)
class ListWindow:
    """What one list request asks for, already validated (see ``listing.ListQuery``)."""

    limit: int
    starting_after: str | None
    ending_before: str | None
    created_min: int | None
    created_max: int | None


class Collection:
    """All objects of one kind in one mode."""

    def __init__(self, noun: str) -> None:
        self.noun = noun
        self._keys: list[tuple[int, int]] = []
        self._records: list[Record] = []
        self._by_id: dict[str, Record] = {}

    def add(self, record: Record) -> Record:
        index = bisect_right(self._keys, record.key)
        self._keys.insert(index, record.key)
        self._records.insert(index, record)
        self._by_id[record.id] = record
        return record

    def get(self, object_id: str) -> Record | None:
        return self._by_id.get(object_id)

    def __contains__(self, object_id: object) -> bool:
        return object_id in self._by_id

    def __len__(self) -> int:
        return len(self._records)

    def newest_first(self) -> Iterator[Record]:
        return reversed(self._records)

    def page(self, window: ListWindow, include: Callable[[Record], bool]) -> tuple[list[Record], bool]:
        """One page of ``include``-d records, newest first, and whether more lie beyond it.

        Without a cursor or with ``starting_after`` the page walks towards older records. With
        ``ending_before`` it takes the ``limit`` records immediately newer than the cursor (the walk
        goes upwards) and ``has_more`` says whether still newer ones exist: stripe-python pages
        backwards by asking ``ending_before=page.data[0].id`` and reading each page reversed.
        """
        low = 0 if window.created_min is None else bisect_left(self._keys, (window.created_min, -1))
        high = (
            len(self._keys)
            if window.created_max is None
            else bisect_left(self._keys, (window.created_max + 1, -1))
        )
        indexes: range
        if window.ending_before is not None:
            start = self._position(window.ending_before, "ending_before") + 1
            indexes = range(max(start, low), high)
        else:
            end = high
            if window.starting_after is not None:
                end = min(end, self._position(window.starting_after, "starting_after"))
            indexes = range(end - 1, low - 1, -1)
        found: list[Record] = []
        for index in indexes:
            record = self._records[index]
            if include(record):
                found.append(record)
                if len(found) > window.limit:
                    break
        has_more = len(found) > window.limit
        del found[window.limit :]
        if window.ending_before is not None:
            found.reverse()
        return found, has_more

    def _position(self, object_id: str, param: str) -> int:
        record = self._by_id.get(object_id)
        if record is None or record.deleted:
            # A deleted object is no cursor any more: Stripe answers 400 resource_missing (stripe-go
            # #1030, stripe-php #1264, where Stripe's maintainers explain it).
            raise resource_missing(self.noun, object_id, param=param)
        return bisect_left(self._keys, record.key)


@dataclass
class Instrument:
    """A card or PaymentMethod made from a test source, and the customer it is attached to."""

    id: str
    card: KnownCard
    customer: str | None
    card_object: dict[str, Any] | None = None
    """The ``card`` object for card sources; PaymentMethods have none."""


KINDS = {
    "charge": "charge",
    "customer": "customer",
    "refund": "refund",
    "product": "product",
    "event": "event",
    "account": "account",
}
"""Stored kinds and the noun Stripe's "No such ..." messages use for them (``account``: the platform's
connected accounts, in the platform's ledgers)."""


@dataclass
class Ledger:
    """Everything one mode (test or live) holds; the two modes never see each other's objects."""

    collections: dict[str, Collection] = field(
        default_factory=lambda: {kind: Collection(noun) for kind, noun in KINDS.items()}
    )
    instruments: dict[str, Instrument] = field(default_factory=dict)
    """Cards and PaymentMethods attached to a customer, by id (one-off sources are not kept)."""
    attached: dict[str, list[Instrument]] = field(default_factory=dict)
    """Each customer's instruments, oldest first."""

    def __getitem__(self, kind: str) -> Collection:
        return self.collections[kind]


class ObjectStore:
    """Each account's and mode's ledger, and the creation counter that orders objects made in the same second.

    The platform account's ledgers are under ``None``; a connected account (``Stripe-Account``) has its own.
    """

    def __init__(self) -> None:
        self._seq = itertools.count()
        self._ledgers: dict[tuple[str | None, bool], Ledger] = {
            (None, False): Ledger(),
            (None, True): Ledger(),
        }

    def ledger(self, livemode: bool, connected_account: str | None = None) -> Ledger:
        return self._ledgers.setdefault((connected_account, livemode), Ledger())

    def next_seq(self) -> int:
        return next(self._seq)

    def newest_first(self, kind: str) -> list[Record]:
        """Records of ``kind`` from both modes, newest first."""
        if kind not in KINDS:
            raise ValueError(f"Unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        records = [record for ledger in self._ledgers.values() for record in ledger[kind].newest_first()]
        return sorted(records, key=lambda record: record.key, reverse=True)
