"""StripeToObjectStorageOperator: a Stripe list exported to Airflow's object storage as JSON Lines."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import Asset, BaseOperator, ObjectStoragePath

from airflow_provider_stripe.api.settings import connected_account
from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.events import EVENTS_PATH, undelivered_since
from airflow_provider_stripe.polling.poll import poll, run_poll
from airflow_provider_stripe.polling.watch import DEFAULT_LOOKBACK
from airflow_provider_stripe.transfers.backfill import CreatedRangeLister, Keep, PartSeries
from airflow_provider_stripe.transfers.change_feeds import ChangeFeed, change_feed
from airflow_provider_stripe.transfers.changes import changed_objects, check_change_retention, events_in
from airflow_provider_stripe.transfers.destination import Destination, asset_uri, checked_url
from airflow_provider_stripe.transfers.jsonl import (
    DEFAULT_OBJECTS_PER_PART,
    FORMAT,
    Part,
    PartWriter,
    checked_objects_per_part,
)
from airflow_provider_stripe.transfers.paced_requests import PacedRequests
from airflow_provider_stripe.transfers.pacing import REQUESTS_PER_SECOND, budget
from airflow_provider_stripe.transfers.resources import EXPORTABLE_RESOURCES, list_path, snapshot_path
from airflow_provider_stripe.transfers.window import WINDOW, CreatedInterval, lookback_seconds
from airflow_provider_stripe.validation import is_unrendered

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_stripe.hooks.stripe import StripeHook, StripeObject

CURSOR_XCOM_KEY = "stripe_cursor"
#: The window decides ``created`` and the walk decides paging: a caller's value would fight them.
_RESERVED_LIST_PARAMS = ("created", "limit", "starting_after", "ending_before")
#: An incremental run reads the news in batches of this many objects (one cursor step each).
_INCREMENTAL_BATCH = 1000
#: An incremental run further behind than this (on Stripe's clock, past the lookback) lists that
#: backlog in paced slices before polling the rest: a first run, or a DAG that was paused.
_BACKLOG_SECONDS = 3600


class StripeToObjectStorageOperator(BaseOperator):
    """Export a Stripe list into a folder of Airflow's object storage as JSON Lines part files.

    With ``window="data_interval"`` (the default) a run exports exactly the objects with
    ``data_interval_start <= created < data_interval_end``: adjacent runs neither overlap nor leave
    a gap, a re-run rewrites identical files and a backfill fills history. Stripe may list an object
    a little after its ``created``, so the run waits until ``data_interval_end + lookback`` has
    passed on Stripe's clock (its ``Date`` header) before listing, deferred (no worker slot held).

    With ``window="incremental"`` a run exports everything created since the previous successful
    run of this task (the sensors' cursor, XCom ``stripe_cursor``, one per map index). A run more
    than an hour behind (a first run, a paused DAG) lists that settled backlog in slices as below,
    then polls the rest.

    A window with more than a page of objects is cut into ``created`` slices listed side by side,
    paced to ``requests_per_second`` (default: Stripe's rate limit for the key's mode, 25 requests
    a second in a sandbox, 100 live), slowing down when Stripe answers 429. A slice denser than its
    share is cut again. Each slice writes its own parts (``part-00003-00000.jsonl``...); the
    manifest lists them in the order of one walk.

    With ``window="all"`` a run exports a snapshot: every object the list holds now, whether or not
    the list takes a ``created`` filter (if it does, in slices back to its oldest object).

    With ``capture="changes"`` (and ``window="data_interval"`` or ``"incremental"``) a run exports
    every object created, updated or deleted in the window instead, found through Stripe Events:
    one row per object, as Stripe holds it now at the pinned API version, a deleted one as Stripe's
    stub ``{"id", "object", "deleted": true}``. Applying a snapshot and then each change folder in
    order (upsert by id, delete on a stub) gives what Stripe holds; see ``docs/current-copy.md``.
    The changed objects are retrieved side by side within ``requests_per_second``, in order.
    Stripe keeps events for 30 days: a window that starts earlier fails (take a new snapshot).

    Objects are streamed page by page into ``part-00000.jsonl`` (or ``.jsonl.gz``)... with constant
    memory; ``manifest.json`` is written last and returned (XCom): parts with object counts, bytes
    and sha256, the window, the resource, the API version and the account. The destination is
    declared as an outlet Asset (a Dataset on Airflow 2) unless ``outlets`` are given.

    :param resource: the Stripe list, named by its path after ``/v1/``: ``charges``, ``refunds``,
        ``customers``, ``products``, ``events``, ``invoices``... (any list that takes a ``created``
        filter; see ``airflow_provider_stripe.transfers.resources``).
    :param path: the destination folder: an ``ObjectStoragePath`` or a URL such as
        ``file:///data/stripe/charges/{{ ds }}/`` or ``s3://aws_default@bucket/stripe/{{ ds }}/``. (templated)
    :param list_params: other list parameters (filters such as ``customer``, and ``expand``). (templated)
    :param format: ``jsonl`` (default) or ``jsonl.gz``.
    :param window: ``data_interval`` (default), ``incremental`` or ``all`` (a snapshot).
    :param capture: ``created`` (default: the objects created in the window) or ``changes`` (the
        objects created, updated or deleted in the window; ``list_params`` may then hold only
        ``expand``; see ``airflow_provider_stripe.transfers.change_feeds`` for the lists).
    :param lookback: how late Stripe may list an object after its ``created`` (default 5 minutes).
    :param objects_per_part: the most objects in one part file (default 100,000).
    :param requests_per_second: the export's share of the account's rate limit (default: Stripe's
        limit for the key's mode). Exports that run at once should split the limit between them,
        e.g. through an Airflow pool (see the exports guide).
    :param stripe_conn_id: the Stripe connection.
    :param stripe_account: a connected account (``acct_...``), sent as ``Stripe-Account``;
        overrides the connection's extra. (templated)
    """

    template_fields: Sequence[str] = ("path", "list_params", "stripe_account")
    template_fields_renderers: ClassVar[dict[str, str]] = {"list_params": "json"}
    ui_color = "#635bff"

    def __init__(
        self,
        *,
        resource: str,
        path: str | ObjectStoragePath,
        list_params: Mapping[str, Any] | None = None,
        format: str = "jsonl",
        window: str = "data_interval",
        capture: str = "created",
        lookback: timedelta | float = DEFAULT_LOOKBACK,
        objects_per_part: int = DEFAULT_OBJECTS_PER_PART,
        requests_per_second: float | None = None,
        stripe_conn_id: str = "stripe_default",
        stripe_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        WINDOW.check("window", window)
        snapshot_path(resource) if window == "all" else list_path(resource)
        change_feed(capture, window, resource, None if is_unrendered(list_params) else list_params)
        checked_url(path)
        FORMAT.check("format", format)
        checked_objects_per_part(objects_per_part)
        lookback_seconds(lookback)
        if requests_per_second is not None:
            REQUESTS_PER_SECOND.check("requests_per_second", requests_per_second)
        if not is_unrendered(list_params):
            checked_list_params(list_params)
        if not is_unrendered(stripe_account):
            connected_account(stripe_account)
        if "outlets" not in kwargs:
            uri = asset_uri(path)
            kwargs["outlets"] = [Asset(uri)] if uri else []
        super().__init__(**kwargs)
        self.resource = resource
        self.path = path
        self.list_params = list_params
        self.format = format
        self.window = window
        self.capture = capture
        self.lookback = lookback
        self.objects_per_part = objects_per_part
        self.requests_per_second = requests_per_second
        self.stripe_conn_id = stripe_conn_id
        self.stripe_account = stripe_account

    @cached_property
    def hook(self) -> StripeHook:
        from airflow_provider_stripe.hooks.stripe import StripeHook

        return StripeHook(self.stripe_conn_id, stripe_account=connected_account(self.stripe_account))

    def execute(self, context: Context) -> dict[str, Any]:
        checked_url(self.path)
        filters = checked_list_params(self.list_params)
        feed = change_feed(self.capture, self.window, self.resource, filters)
        if self.window == "all":
            return self._export_snapshot(filters)
        if self.window == "incremental":
            return self._export_incremental(context, filters, feed)
        interval = CreatedInterval.of_data_interval(
            context.get("data_interval_start"), context.get("data_interval_end")
        )
        window = {"kind": "data_interval", **_created_bounds(interval.created_gte, interval.created_lt)}
        if feed is not None:
            self._wait_until_listable(interval, self.hook.server_time(EVENTS_PATH))
            events = events_in(self.hook.list_page, feed, interval)
            with changed_objects(
                feed, events, self._paced(), newest_first=True, params=filters, log=self.log
            ) as changed:
                return self._export(_streamed(changed), {**window, "capture": "changes"})
        # The interval's newest page is also the clock check: one round trip before the slices.
        lister = self._lister(filters)
        newest = lister.newest_page(interval.created_gte, interval.created_lt)
        self._wait_until_listable(interval, newest.clock(list_path(self.resource)))

        def fill(series: PartSeries) -> list[Part]:
            return lister.export(interval.created_gte, interval.created_lt, series, newest)

        return self._export(fill, window)

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Resume after the wait for Stripe's clock: check it again, then export."""
        return self.execute(context)

    def _export_snapshot(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        """Every object of the list now; in paced ``created`` slices where the list takes the filter."""
        path = snapshot_path(self.resource)
        if self.resource not in EXPORTABLE_RESOURCES:  # no `created` to slice by: one page after another
            listed_from = int(self.hook.server_time(path).timestamp())
            fill = _streamed(self.hook.paginate(path, filters))
        else:  # the list's newest page is also Stripe's clock: the snapshot's start
            lister = self._lister(filters)
            newest = lister.newest_page(None, None)
            listed_from = int(newest.clock(path).timestamp())

            def fill(series: PartSeries) -> list[Part]:
                return lister.export(None, None, series, newest)

        window = {"kind": "all", "listed_from": listed_from, "start": _iso(listed_from)}
        return self._export(fill, window)

    def _paced(self) -> PacedRequests:
        """Requests within the export's budget, from many threads (slices, retrievals)."""
        return PacedRequests(self.hook, budget(self.requests_per_second, self.hook.settings.api_key.mode))

    def _wait_until_listable(self, interval: CreatedInterval, stripe_now: datetime) -> None:
        """Defer (no worker slot held) until ``interval`` plus the lookback has passed on Stripe's
        clock, read as ``stripe_now`` from the answer the caller just had; return if it has."""
        wait = interval.seconds_until_listable(stripe_now, lookback_seconds(self.lookback))
        if wait <= 0:
            return
        moment = datetime.now(timezone.utc) + timedelta(seconds=wait)
        self.log.info(
            "Stripe's clock says %s; objects created before %s may still appear for %s s (lookback). "
            "Deferring until %s.",
            stripe_now.isoformat(),
            datetime.fromtimestamp(interval.created_lt, timezone.utc).isoformat(),
            lookback_seconds(self.lookback),
            moment.isoformat(),
        )
        self.defer(trigger=_datetime_trigger(moment), method_name="execute_complete")

    def _export_incremental(
        self, context: Context, filters: Mapping[str, Any], feed: ChangeFeed | None
    ) -> dict[str, Any]:
        ti = context["ti"]
        stored = ti.xcom_pull(
            task_ids=ti.task_id, key=CURSOR_XCOM_KEY, include_prior_dates=True, map_indexes=ti.map_index
        )
        start = context.get("data_interval_start") or datetime.now(timezone.utc)
        cursor = Cursor.from_json(stored) if stored else Cursor.starting_at(int(start.timestamp()))
        progress: dict[str, Cursor] = {"cursor": cursor}
        window = {"kind": "incremental", "created_gte": cursor.floor}
        if feed is None:
            manifest = self._export(self._news_created(cursor, filters, progress), window)
        else:
            check_change_retention(
                undelivered_since(cursor), int(self.hook.server_time(EVENTS_PATH).timestamp())
            )
            events = self._news_since(EVENTS_PATH, feed.events_filter(), progress)
            with changed_objects(
                feed, events, self._paced(), newest_first=False, params=filters, log=self.log
            ) as changed:
                manifest = self._export(_streamed(changed), {**window, "capture": "changes"})
        ti.xcom_push(key=CURSOR_XCOM_KEY, value=progress["cursor"].to_json())
        return manifest

    def _news_created(self, cursor: Cursor, filters: Mapping[str, Any], progress: dict[str, Cursor]) -> _Fill:
        """What an incremental run of ``capture="created"`` writes: the news since ``cursor``.

        A backlog settled on Stripe's clock (created more than the lookback ago) of more than
        :data:`_BACKLOG_SECONDS` (a first run, a paused DAG) is listed first, in paced slices as a
        data interval is, skipping what the cursor already delivered; then the cursor, moved past
        it, polls the rest. This machine's clock only says whether Stripe's is worth asking.
        """
        path = list_path(self.resource)
        lookback = lookback_seconds(self.lookback)
        polled = _streamed(self._news_since(path, filters, progress))
        if time.time() - lookback - cursor.floor < _BACKLOG_SECONDS:
            return polled
        settled = int(self.hook.server_time(path).timestamp()) - lookback
        if settled - cursor.floor < _BACKLOG_SECONDS:
            return polled

        def new(obj: Mapping[str, Any]) -> bool:
            return obj["id"] not in cursor.delivered

        lister = self._lister(filters, keep=new)

        def fill(series: PartSeries) -> list[Part]:
            newest = lister.newest_page(cursor.floor, settled)
            parts = lister.export(cursor.floor, settled, series, newest)
            listed = [int(obj["created"]) for obj in newest.body.get("data") or [] if new(obj)]
            progress["cursor"] = cursor.listed_until(settled, max(listed, default=None))
            return parts + _streamed(self._news_since(path, filters, progress), "news-")(series)

        return fill

    def _news_since(
        self, path: str, filters: Mapping[str, Any], progress: dict[str, Cursor]
    ) -> Iterable[StripeObject]:
        """Every object of the list at ``path`` new to ``progress["cursor"]``, oldest first, one
        cursor batch at a time; the cursor there moves past each batch once it has been taken."""
        while True:
            result = run_poll(
                poll(
                    progress["cursor"],
                    filters,
                    max_batch=_INCREMENTAL_BATCH,
                    lookback_seconds=lookback_seconds(self.lookback),
                ),
                lambda query: self.hook.list_page(path, query),
            )
            yield from result.objects
            progress["cursor"] = result.cursor
            if len(result.objects) < _INCREMENTAL_BATCH:
                return

    def _lister(self, filters: Mapping[str, Any], keep: Keep | None = None) -> CreatedRangeLister:
        """Lists a ``created`` range of the resource in paced, concurrent slices."""
        return CreatedRangeLister(self._paced(), list_path(self.resource), filters, log=self.log, keep=keep)

    def _export(self, fill: _Fill, window: Mapping[str, Any]) -> dict[str, Any]:
        folder = self.path if isinstance(self.path, ObjectStoragePath) else ObjectStoragePath(self.path)
        destination = Destination(folder)
        destination.begin()
        self.log.info("Exporting Stripe %s (%s) to %s", self.resource, dict(window), folder)
        parts = fill(
            lambda series: PartWriter(
                destination.open_part, self.format, self.objects_per_part, self._log_part, series
            )
        )
        settings = self.hook.settings
        manifest = destination.complete(
            parts,
            {
                "resource": self.resource,
                "format": self.format,
                "window": dict(window),
                "api_version": settings.stripe_version,
                "account": settings.stripe_account,
                "livemode": settings.api_key.mode == "live",
            },
        )
        self.log.info(
            "Exported %d %s in %d part(s), %d bytes; manifest written to %s",
            manifest["objects"],
            self.resource,
            len(parts),
            manifest["bytes"],
            folder,
        )
        return manifest

    def _log_part(self, part: Part) -> None:
        self.log.info("Wrote %s: %d %s, %d bytes", part.name, part.objects, self.resource, part.bytes)


#: Writes an export's parts, given how to open a part series, and returns them in order.
_Fill = Callable[[PartSeries], list[Part]]


def _streamed(objects: Iterable[StripeObject], name: str = "") -> _Fill:
    """Objects that come one by one (the incremental window's batches), into the part series ``name``."""

    def fill(series: PartSeries) -> list[Part]:
        with series(name) as writer:
            for obj in objects:
                writer.write(obj)
        return writer.parts

    return fill


def checked_list_params(list_params: Any) -> dict[str, Any]:
    """The caller's list parameters, refusing those the export itself controls."""
    if list_params is None:
        return {}
    if not isinstance(list_params, Mapping):
        raise StripeValidationError(
            f"list_params must be a dict of Stripe list parameters, got {list_params!r}.", param="list_params"
        )
    for name in _RESERVED_LIST_PARAMS:
        if name in list_params:
            raise StripeValidationError(
                f"list_params.{name} is set by the export itself (the window sets `created`, the walk "
                "sets paging); remove it.",
                param=f"list_params.{name}",
            )
    return dict(list_params)


def _created_bounds(gte: int, lt: int) -> dict[str, Any]:
    return {"created_gte": gte, "created_lt": lt, "start": _iso(gte), "end": _iso(lt)}


def _iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).isoformat()


def _datetime_trigger(moment: datetime) -> Any:
    """Airflow's own trigger that fires at ``moment`` (standard provider on 3.x, core on 2.11)."""
    try:
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger
    except ImportError:  # Airflow 2.11 without the standard provider
        from airflow.triggers.temporal import DateTimeTrigger  # type: ignore[no-redef]
    return DateTimeTrigger(moment=moment)
