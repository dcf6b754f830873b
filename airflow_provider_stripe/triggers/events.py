"""Triggers for Stripe Events: the deferrable side of StripeNewEventSensor, and an AssetWatcher trigger.

Both are the object triggers of :mod:`.stripe` polling ``/v1/events`` through
:mod:`airflow_provider_stripe.polling.events` (event types, Stripe's 30-day retention, refetching),
with a hook that may act for a connected account (``stripe_account``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.events import (
    EVENTS_PATH,
    EventWatch,
    event_type_filters,
    run_event_poll_async,
)
from airflow_provider_stripe.polling.poll import PollResult
from airflow_provider_stripe.polling.watch import Watch
from airflow_provider_stripe.triggers.stripe import (
    StripeNewObjectsTrigger,
    _PollsStripe,
    _StripeNewObjectsEventTrigger,
)


class _PollsStripeEvents(_PollsStripe):
    """Reach Stripe as ``stripe_account`` (if set), and poll events with their own rules."""

    stripe_account: str | None
    refetch: bool

    def _hook(self) -> StripeHook:
        return StripeHook(self.stripe_conn_id, stripe_account=self.stripe_account)

    async def _poll_once(self, hook: Any, watch: Watch, cursor: Cursor) -> PollResult:
        return await run_event_poll_async(EventWatch(watch, self.refetch).poll(cursor), hook.aread)


class StripeNewEventsTrigger(_PollsStripeEvents, StripeNewObjectsTrigger):
    """Poll ``/v1/events`` on the triggerer until new events of ``event_types`` show up (one trigger
    event, as :class:`~.stripe.StripeNewObjectsTrigger`); what ``StripeNewEventSensor`` defers to.

    :param event_types: 1 to 20 event types, or one with a ``*`` wildcard.
    :param refetch: replace each event's object with its current version (see the sensor).
    :param stripe_account: the connected account to act as (``Stripe-Account``), if any.
    """

    def __init__(
        self,
        *,
        cursor: str,
        event_types: str | Sequence[str],
        refetch: bool = False,
        stripe_account: str | None = None,
        stripe_conn_id: str = "stripe_default",
        max_batch: int = 100,
        lookback_seconds: int = 300,
        poll_interval: float = 15.0,
    ) -> None:
        super().__init__(
            path=EVENTS_PATH,
            cursor=cursor,
            stripe_conn_id=stripe_conn_id,
            filters=event_type_filters(event_types),
            max_batch=max_batch,
            lookback_seconds=lookback_seconds,
            poll_interval=poll_interval,
        )
        self.event_types = [event_types] if isinstance(event_types, str) else list(event_types)
        self.refetch = refetch
        self.stripe_account = stripe_account

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "cursor": self.cursor,
                "event_types": self.event_types,
                "refetch": self.refetch,
                "stripe_account": self.stripe_account,
                "stripe_conn_id": self.stripe_conn_id,
                "max_batch": self.max_batch,
                "lookback_seconds": self.lookback_seconds,
                "poll_interval": self.poll_interval,
            },
        )


class StripeChangeFeedEventTrigger(_PollsStripeEvents, _StripeNewObjectsEventTrigger):
    """Event trigger for ``AssetWatcher`` (Airflow 3.3+): one event per batch of new Stripe Events.

    ``{"objects": [...events, oldest first...]}``, with the cursor in the asset's state store, as
    :class:`~.stripe.StripeNewChargeEventTrigger`. A cursor older than Stripe's 30-day retention is
    logged as an error on every poll (a watcher has no task to fail); see ``docs/change-feed.md``.

    :param event_types: 1 to 20 event types, or one with a ``*`` wildcard (``"charge.*"``).
    :param refetch: replace each event's object with its current version at the pinned API version.
    :param stripe_account: the connected account to act as (``Stripe-Account``), if any.
    :param stripe_conn_id: the Stripe connection.
    :param poll_interval: seconds between polls (default 15).
    :param max_batch: the most events per trigger event.
    :param lookback_seconds: how late an event may show up in Stripe's list and still be delivered.
    :param start_from: epoch seconds to start from on the very first run (default: now).
    """

    path = EVENTS_PATH
    filter_names = ()

    def __init__(
        self,
        *,
        event_types: str | Sequence[str],
        refetch: bool = False,
        stripe_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.watch = EventWatch.checked(event_types, self.max_batch, self.lookback_seconds, refetch).watch
        self.event_types = [event_types] if isinstance(event_types, str) else list(event_types)
        self.refetch = refetch
        self.stripe_account = stripe_account

    def serialize(self) -> tuple[str, dict[str, Any]]:
        classpath, kwargs = super().serialize()
        kwargs.update(event_types=self.event_types, refetch=self.refetch, stripe_account=self.stripe_account)
        return classpath, kwargs
