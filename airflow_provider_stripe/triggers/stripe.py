"""The deferrable sensors' triggers: the async side of StripeNewChargeSensor / StripeNewRefundSensor
(:class:`StripeNewObjectsTrigger`) and of StripeNewEventSensor (:class:`StripeNewEventsTrigger`).

The event triggers of event-driven DAGs (Airflow 3.3+) live in
:mod:`airflow_provider_stripe.triggers.stripe_events`; their public names are importable from here too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_stripe.exceptions import StripeError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.events import EVENTS_PATH, event_type_filters
from airflow_provider_stripe.polling.watch import (
    DEFAULT_LOOKBACK_SECONDS,
    DEFAULT_MAX_BATCH,
    DEFAULT_POLL_INTERVAL,
    Watch,
    ends_the_wait,
)
from airflow_provider_stripe.triggers.polls import PollsStripe, PollsStripeEvents
from airflow_provider_stripe.triggers.stripe_events import (
    StripeChangeFeedEventTrigger,
    StripeNewChargeEventTrigger,
    StripeNewRefundEventTrigger,
)

__all__ = [
    "StripeChangeFeedEventTrigger",
    "StripeNewChargeEventTrigger",
    "StripeNewEventsTrigger",
    "StripeNewObjectsTrigger",
    "StripeNewRefundEventTrigger",
    "error_event",
    "error_from_event",
]


class StripeNewObjectsTrigger(PollsStripe, BaseTrigger):
    """Poll a Stripe list on the triggerer until something new shows up; holds no worker slot.

    Fires one event: ``{"status": "success", "objects": [...oldest first...], "cursor": "<json>"}``
    or ``{"status": "error", "error_class": ..., "message": ..., ...}`` for a failure that waiting
    cannot fix. Transient failures are logged and polled through. The key is not in the payload:
    the trigger looks the connection up by id on the triggerer.

    :param path: ``/v1/charges`` or ``/v1/refunds``.
    :param cursor: the sensor's cursor, as JSON.
    :param filters: list filters (``customer``; ``charge`` / ``payment_intent``).
    :param poll_interval: seconds between polls.
    """

    def __init__(
        self,
        *,
        path: str,
        cursor: str,
        stripe_conn_id: str = "stripe_default",
        filters: Mapping[str, Any] | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__()
        self.path = path
        self.cursor = cursor
        self.stripe_conn_id = stripe_conn_id
        self.filters = dict(filters or {})
        self.max_batch = max_batch
        self.lookback_seconds = lookback_seconds
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "path": self.path,
                "cursor": self.cursor,
                "stripe_conn_id": self.stripe_conn_id,
                "filters": self.filters,
                "max_batch": self.max_batch,
                "lookback_seconds": self.lookback_seconds,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        watch = Watch(self.path, self.filters, self.max_batch, self.lookback_seconds)
        cursor = Cursor.from_json(self.cursor)
        hook = self._hook()
        try:
            while True:
                # Fixed-rate polling: a poll's own round trip does not push the next one back, so
                # a new object waits at most one interval and an idle day is exactly
                # 86,400 / poll_interval calls.
                started = time.monotonic()
                try:
                    result = await self._poll_once(hook, watch, cursor)
                except StripeError as error:
                    if ends_the_wait(error):
                        yield TriggerEvent(error_event(error))
                        return
                    self.log.warning(
                        "Stripe poll failed, trying again in %s s: %s", self.poll_interval, error
                    )
                else:
                    self.log.info(watch.describe(result, "objects"))
                    # An idle poll moves the cursor too (its floor follows Stripe's clock), so that
                    # the next poll does not list again what this one already listed.
                    cursor = result.cursor
                    if result.objects:
                        yield TriggerEvent(
                            {
                                "status": "success",
                                "objects": result.objects,
                                "cursor": result.cursor.to_json(),
                            }
                        )
                        return
                await asyncio.sleep(max(0.0, started + self.poll_interval - time.monotonic()))
        finally:
            await hook.aclose()


class StripeNewEventsTrigger(PollsStripeEvents, StripeNewObjectsTrigger):
    """Poll ``/v1/events`` on the triggerer until new events of ``event_types`` show up (one trigger
    event, as :class:`StripeNewObjectsTrigger`); what ``StripeNewEventSensor`` defers to.

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
        max_batch: int = DEFAULT_MAX_BATCH,
        lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
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
        classpath, kwargs = super().serialize()
        del kwargs["path"], kwargs["filters"]
        kwargs.update(event_types=self.event_types, refetch=self.refetch, stripe_account=self.stripe_account)
        return classpath, kwargs


def error_event(error: StripeError) -> dict[str, Any]:
    """A JSON-able description of ``error`` that :func:`error_from_event` turns back into it."""
    return {
        "status": "error",
        "error_class": type(error).__name__,
        "message": error.message,
        "http_status": error.http_status,
        "type": error.type,
        "code": error.code,
        "param": error.param,
        "request_id": error.request_id,
    }


def error_from_event(event: Mapping[str, Any]) -> StripeError:
    from airflow_provider_stripe import exceptions

    cls = getattr(exceptions, str(event.get("error_class")), None)
    if not (isinstance(cls, type) and issubclass(cls, StripeError)):
        cls = StripeError
    fields = {name: event.get(name) for name in ("http_status", "type", "code", "param", "request_id")}
    return cls(str(event.get("message")), **fields)
