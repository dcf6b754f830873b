"""Change capture: every object of a list created, updated or deleted in a window, once, as it is now.

Stripe Events say which objects changed; their payloads do not say how the objects are now (an
event snapshots its object when it happens, rendered in the account's API version). So a run reads
the window's events first, noting each changed object's id and the position of its last event,
then retrieves each changed object once, at the connection's pinned API version, in the order of
those last changes; an object Stripe no longer has becomes its stub ``{"id", "object", "deleted":
true}``. Requests: the pages of events, plus one retrieval per changed object.

The retrievals are the cost (one request an object, against one per 100 events), so they go side
by side: a pool of threads (two per request a second of budget, :attr:`.PacedRequests.threads`), every
request paced to the export's budget by :class:`~.paced_requests.PacedRequests` (a 429 slows the
pace rather than using up a retry), with at most two retrievals a thread in flight or held
(:func:`.ordered_map.ordered_map`), written in the order of the last changes. The events are read
one page after another.

The noted ids go to a throw-away SQLite file, not to memory: a window with 100,000 changed objects
costs the same memory as one with ten (SQLite keeps a page cache of :data:`_CACHE_KIB` and sorts on
disk beyond it). The order of the rows is that of the events, so a re-run of a window writes
byte-identical files as long as the objects have not changed since.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_stripe.api.pages import Page, first_page_params, next_page_params
from airflow_provider_stripe.exceptions import StripeNotFoundError, StripeValidationError
from airflow_provider_stripe.polling.events import EVENTS_PATH, retention_gap, tombstone
from airflow_provider_stripe.transfers.backfill import PROGRESS_EVERY, Progress
from airflow_provider_stripe.transfers.change_feeds import ChangeFeed
from airflow_provider_stripe.transfers.ordered_map import ordered_map

if TYPE_CHECKING:
    from airflow_provider_stripe.transfers.backfill import TaskLog
    from airflow_provider_stripe.transfers.paced_requests import PacedRequests
    from airflow_provider_stripe.transfers.window import CreatedInterval

StripeObject = dict[str, Any]
Query = dict[str, Any]
#: SQLite's page cache for the noted ids, in KiB: the most memory the notes take, whatever their number.
_CACHE_KIB = 2048


def check_change_retention(since: int, stripe_time: int | None) -> None:
    """Fail when events created from ``since`` on may have left Stripe's 30-day retention.

    :raises StripeValidationError: naming ``window``, the retention and the way out (a new snapshot).
    """
    gap = retention_gap(since, stripe_time)
    if gap is None:
        return
    raise StripeValidationError(
        f"Stripe keeps events for 30 days, and this change capture's window starts earlier: {gap}, so "
        "the changes made then cannot be found any more. Take a new snapshot of the list "
        "(window='all') and capture changes from the snapshot's start on (the manifest's "
        "window.listed_from); a data interval older than 30 days cannot be captured as changes.",
        param="window",
    )


def events_in(
    fetch: Callable[[str, Query], Page], feed: ChangeFeed, interval: CreatedInterval
) -> Iterator[StripeObject]:
    """The feed's events created in ``interval``, newest first, checking Stripe's retention on every
    page's clock (``fetch`` is ``StripeHook.list_page``)."""
    query: Query | None = first_page_params({**feed.events_filter(), "created": interval.created_filter()})
    while query is not None:
        page = fetch(EVENTS_PATH, query)
        check_change_retention(interval.created_gte, page.stripe_time)
        yield from page.body.get("data") or []
        query = next_page_params(query, page.body)


class ChangedIds:
    """The distinct objects a walk over events names, on disk, each at the position of its last event.

    :param feed: which objects count: events whose ``data.object`` has another type are skipped.
    :param folder: where the SQLite file lives (a temporary folder the caller removes).
    """

    def __init__(self, feed: ChangeFeed, folder: Path) -> None:
        self.feed = feed
        self._db = sqlite3.connect(folder / "changed.sqlite", isolation_level=None)
        self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("PRAGMA temp_store = FILE")  # sorting spills to disk too
        self._db.execute(
            "CREATE TABLE changed (id TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID"
        )
        self._position = 0
        self.events = 0

    def note(self, events: Iterable[Mapping[str, Any]], *, newest_first: bool) -> None:
        """Note the objects of ``events``, walked newest first or oldest first."""
        step = -1 if newest_first else 1
        self._db.execute("BEGIN")
        for event in events:
            obj = event.get("data", {}).get("object") or {}
            if obj.get("object") != self.feed.resource.object_type or not obj.get("id"):
                continue
            self._position += step
            self.events += 1
            self._db.execute(
                "INSERT INTO changed (id, position) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET position = max(position, excluded.position)",
                (str(obj["id"]), self._position),
            )
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        count: int = self._db.execute("SELECT count(*) FROM changed").fetchone()[0]
        return count

    def in_order(self) -> Iterator[str]:
        """The noted ids in the order of their last change, oldest first."""
        for (object_id,) in self._db.execute("SELECT id FROM changed ORDER BY position"):
            yield object_id

    def close(self) -> None:
        self._db.close()


def current_states(
    ids: Iterable[str],
    feed: ChangeFeed,
    requests: PacedRequests,
    params: Mapping[str, Any] | None = None,
    log: TaskLog | None = None,
) -> Generator[StripeObject, None, None]:
    """Each object as Stripe holds it now, or the stub of a deleted one (Stripe answers 404 for most
    deleted objects, a stub for customers), in the order of ``ids``: retrieved side by side within
    the budget of ``requests``, a bounded window of them at a time (:func:`.ordered_map.ordered_map`);
    progress goes to ``log`` if given."""
    object_type = feed.resource.object_type

    def current(object_id: str) -> StripeObject:
        try:
            return requests.retrieve(feed.resource.object_path(object_id), params or None)
        except StripeNotFoundError:
            return tombstone({"id": object_id, "object": object_type})

    requests.widen_connection_pool(requests.threads)
    states = ordered_map(current, ids, threads=requests.threads, name="stripe-changes")
    return states if log is None else _logged(states, requests, log)


def _logged(
    states: Generator[StripeObject, None, None], requests: PacedRequests, log: TaskLog
) -> Generator[StripeObject, None, None]:
    """``states`` as they come, with a progress line every :data:`.backfill.PROGRESS_EVERY` seconds
    and one at the end (objects and requests a second)."""
    progress = Progress()
    logged = progress.started
    with closing(states):
        for state in states:
            progress.add(objects=1)
            yield state
            if time.monotonic() - logged >= PROGRESS_EVERY:
                logged = time.monotonic()
                log.info("Retrieved %s", progress.line(requests))
    log.info("Retrieved %s", progress.line(requests))


@contextmanager
def changed_objects(
    feed: ChangeFeed,
    events: Iterable[Mapping[str, Any]],
    requests: PacedRequests,
    *,
    newest_first: bool,
    params: Mapping[str, Any] | None = None,
    log: TaskLog | None = None,
) -> Iterator[Iterator[StripeObject]]:
    """Read all of ``events`` now (a retention failure happens before anything is written), then
    give the changed objects' current states, to be written within the ``with`` block (progress
    in ``log``)."""
    with tempfile.TemporaryDirectory(prefix="stripe-changes-") as folder:
        changed = ChangedIds(feed, Path(folder))
        try:
            changed.note(events, newest_first=newest_first)
            with closing(current_states(changed.in_order(), feed, requests, params, log)) as states:
                yield states
        finally:
            changed.close()
