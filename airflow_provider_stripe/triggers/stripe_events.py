"""Event triggers for event-driven DAGs (``AssetWatcher``, Airflow 3.3+): one event per batch of new
Stripe objects, the cursor kept in the watched asset's state store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_stripe.exceptions import StripeError, StripeValidationError
from airflow_provider_stripe.polling.cursor import CURSOR_KEY, Cursor
from airflow_provider_stripe.polling.events import EVENTS_PATH, EventWatch
from airflow_provider_stripe.polling.poll import PollResult
from airflow_provider_stripe.polling.watch import (
    DEFAULT_POLL_INTERVAL,
    Watch,
    ends_the_wait,
)
from airflow_provider_stripe.triggers.polls import PollsStripe, PollsStripeEvents
from airflow_provider_stripe.version_compat import require_airflow

try:  # Airflow 3.0+
    from airflow.triggers.base import BaseEventTrigger as _EventTriggerBase
except ImportError:  # Airflow 2.x: no event-driven scheduling; the classes below refuse to build.
    _EventTriggerBase = BaseTrigger  # type: ignore[misc,assignment]
try:  # Airflow 3.3+
    from airflow.triggers.shared_stream import SharedStreamProducer as _ProducerBase
except ImportError:  # Older Airflow: never used, the event triggers refuse to build there.
    _ProducerBase = object  # type: ignore[misc,assignment]

EVENT_CURSOR_KEY = CURSOR_KEY


def _require_event_triggers() -> None:
    require_airflow(
        (3, 3),
        "Stripe event triggers (an AssetWatcher that keeps its cursor in the asset state store)",
        "Use StripeNewChargeSensor / StripeNewRefundSensor instead.",
    )


class _PollTurn:
    """One turn of an event trigger's poll loop, passed from :class:`_PollTurns` to the trigger and back.

    A turn that found news, or an idle one whose cursor is worth a write, carries ``save_cursor``;
    it is awaited only once the turn comes back through :meth:`_PollTurns.advance`, which the
    triggerer does in turn order, after the turn's event (if any) is stored.
    """

    def __init__(self) -> None:
        self.polled = asyncio.Event()
        self.found_news = False
        self.save_cursor: Callable[[], Awaitable[None]] | None = None

    async def pause(self, poll_interval: float) -> None:
        """Wait before the next turn; after news, look again at once (a backlog comes a batch a time)."""
        if not self.found_news:
            await asyncio.sleep(poll_interval)


class _PollTurns(_ProducerBase):
    """The triggerer's ack-mode stream for one event trigger: a poll turn every ``poll_interval``
    (at once after a turn that found news).

    Airflow 3.3 gives a trigger one way to learn that an event it yielded is in the metadata DB:
    the ack mode of shared streams (``airflow.triggers.shared_stream``), which calls
    :meth:`advance` with each raw item only after every trigger event derived from it is stored.
    Saving the cursor there, and not right after ``yield``, is what keeps a batch from being lost
    when the triggerer stops after a poll but before its event left the trigger runner.
    """

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval

    async def open_stream(self) -> AsyncIterator[tuple[_PollTurn, _PollTurn]]:
        while True:
            turn = _PollTurn()
            yield turn, turn
            await turn.polled.wait()
            await turn.pause(self.poll_interval)

    async def advance(self, batch: Sequence[Any]) -> None:
        for item in batch:
            if not item.outcome.is_clean:
                # Not confirmed stored (ack timeout): keep the saved cursor where it is. Raising ends
                # the stream; the triggerer starts the trigger again, which delivers the batch again.
                raise StripeError(
                    "A Stripe event trigger's event was not confirmed stored in the metadata DB; its "
                    "cursor stays put and the trigger restarts from it."
                )
            turn: _PollTurn = item.broker_payload
            if turn.save_cursor is not None:
                await turn.save_cursor()


class _StripeNewObjectsEventTrigger(PollsStripe, _EventTriggerBase):
    """Fire one event per batch of new objects, forever, for an ``AssetWatcher``.

    The cursor lives in the watched asset's state store (Airflow 3.3+) and is saved only after the
    batch's event is stored in the metadata DB (see :class:`_PollTurns`). A new trigger instance (a
    triggerer restart) resumes from it: a batch whose event was stored is not fired again, and
    objects created while no triggerer ran are delivered. Should the triggerer die in the second or
    so between storing an event and saving the cursor, that one batch is delivered again: the
    trigger prefers a repeat to a loss.
    """

    path: str
    filter_names: tuple[str, ...]

    def __init__(self, *, start_from: float | None = None, **kwargs: Any) -> None:
        _require_event_triggers()
        filters = {name: kwargs.pop(name, None) for name in self.filter_names}
        super().__init__(**kwargs)
        self.start_from = start_from
        self.filters = filters
        self.watch = Watch.checked(self.path, self.filters, self.max_batch, self.lookback_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self._polling_settings(),
                "start_from": self.start_from,
                **{name: value for name, value in self.filters.items() if value},
            },
        )

    def shared_stream_key(self) -> Hashable:
        # Shared with no other trigger: the key names this one. The stream is here for its ack mode.
        return (f"{type(self).__module__}.{type(self).__qualname__}", self.trigger_id)

    @classmethod
    def create_shared_stream_producer(cls, kwargs: dict[str, Any]) -> _PollTurns:
        return _PollTurns(float(kwargs.get("poll_interval", DEFAULT_POLL_INTERVAL)))

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        """Poll once per turn; a turn that finds news yields their event and carries the new cursor."""
        store = self._state_store()
        cursor = saved = await self._load_cursor(store)
        hook = self._hook()
        try:
            async for turn in shared_stream:
                try:
                    result = await self._poll(hook, cursor)
                    if result is not None and result.objects:
                        self.log.info(self.watch.describe(result, "objects"))
                        turn.found_news = True
                        yield TriggerEvent({"objects": result.objects})
                    if result is not None and (result.objects or result.cursor.worth_saving(saved)):
                        # With news, armed only once the triggerer asks for more, i.e. has queued
                        # the event to be stored: a trigger cancelled at the yield dropped the event,
                        # and Airflow still advances a turn whose subscriber left. Idle polls move
                        # the floor with Stripe's clock; it is saved when the ids it keeps change
                        # (a burst settled) or an hour on, through the same turn order, so a restart
                        # does not list a settled burst again and a quiet feed never ages out.
                        turn.save_cursor = partial(store.aset, EVENT_CURSOR_KEY, result.cursor.to_json())
                        saved = result.cursor
                    if result is not None:
                        cursor = result.cursor
                finally:
                    turn.polled.set()
        finally:
            await hook.aclose()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Outside the triggerer's streams (a test, a debugger), a turn's cursor is saved as soon as
        the caller asks for the next event."""
        async for event in self.filter_shared_stream(self._turns_saved_on_next()):
            yield event

    async def _turns_saved_on_next(self) -> AsyncIterator[_PollTurn]:
        while True:
            turn = _PollTurn()
            yield turn
            if turn.save_cursor is not None:
                await turn.save_cursor()
            await turn.pause(self.poll_interval)

    async def _poll(self, hook: Any, cursor: Cursor) -> PollResult | None:
        """One poll; None when it failed. A watcher has no task to fail, and the triggerer restarts
        a trigger that raises within a second or two, so failures are logged and polled through."""
        try:
            return await self._poll_once(hook, self.watch, cursor)
        except StripeError as error:
            if ends_the_wait(error):
                self.log.error(
                    "Stripe refused the poll; trying again in %s s. Fix the connection %r: %s",
                    self.poll_interval,
                    self.stripe_conn_id,
                    error,
                )
            else:
                self.log.warning("Stripe poll failed, trying again in %s s: %s", self.poll_interval, error)
            return None

    def _state_store(self) -> Any:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            raise StripeValidationError(
                "This trigger only runs inside an AssetWatcher on Airflow 3.3+, where the triggerer "
                "gives it the asset's state store to keep its cursor in.",
                param="trigger",
            )
        return store

    async def _load_cursor(self, store: Any) -> Cursor:
        try:
            stored = await store.aget(EVENT_CURSOR_KEY)
        except ValueError as error:  # Airflow: "... 2 concrete inlets and outlets ..."
            raise StripeValidationError(
                "One Stripe event trigger watches two or more assets (their AssetWatchers have the same "
                "trigger arguments, so Airflow runs one trigger for all), but its cursor belongs to one "
                f"asset ({error}). Give each asset its own Stripe filter, or schedule the DAGs on one asset.",
                param="trigger",
            ) from None
        if stored:
            return Cursor.from_json(str(stored))
        start = int(self.start_from if self.start_from is not None else time.time())
        cursor = Cursor.starting_at(start)
        await store.aset(EVENT_CURSOR_KEY, cursor.to_json())  # "now" must not move on a restart
        return cursor


class StripeNewChargeEventTrigger(_StripeNewObjectsEventTrigger):
    """Event trigger for ``AssetWatcher``: one event per batch of new charges (of one ``customer``, if set).

    :param stripe_conn_id: the Stripe connection.
    :param stripe_account: watch this connected account (``acct_...``), sent as ``Stripe-Account`` and
        overriding the connection's extra.
    :param customer: only charges of this customer.
    :param poll_interval: seconds between polls (default 15: 5,760 calls a day when idle).
    :param max_batch: the most charges per event.
    :param lookback_seconds: how late a charge may show up in Stripe's list and still be delivered.
    :param start_from: epoch seconds to start from on the very first run (default: now).
    """

    path = "/v1/charges"
    filter_names = ("customer",)


class StripeNewRefundEventTrigger(_StripeNewObjectsEventTrigger):
    """Event trigger for ``AssetWatcher``: one event per batch of new refunds (optionally of one
    ``charge`` or ``payment_intent``). Parameters as :class:`StripeNewChargeEventTrigger`."""

    path = "/v1/refunds"
    filter_names = ("charge", "payment_intent")


class StripeChangeFeedEventTrigger(PollsStripeEvents, _StripeNewObjectsEventTrigger):
    """Event trigger for ``AssetWatcher`` (Airflow 3.3+): one event per batch of new Stripe Events.

    ``{"objects": [...events, oldest first...]}``, with the cursor in the asset's state store, as
    :class:`StripeNewChargeEventTrigger`. A cursor older than Stripe's 30-day retention is logged as
    an error on every poll (a watcher has no task to fail); see ``docs/change-feed.md``.

    :param event_types: 1 to 20 event types, or one with a ``*`` wildcard (``"charge.*"``).
    :param refetch: replace each event's object with its current version at the pinned API version.
    :param start_from: epoch seconds to start from on the very first run (default: now).

    The other parameters are :class:`StripeNewChargeEventTrigger`'s (``stripe_conn_id``,
    ``stripe_account``, ``poll_interval``, ``max_batch``, ``lookback_seconds``).
    """

    path = EVENTS_PATH
    filter_names = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watch = EventWatch.checked(
            self.event_types, self.max_batch, self.lookback_seconds, self.refetch
        ).watch
