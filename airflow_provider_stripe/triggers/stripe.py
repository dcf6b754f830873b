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

    Fires one event: ``{"status": "success", "objects": [...oldest first...], "cursor": "<json>"}``,
    ``{"status": "timeout", "cursor": "<json>"}`` when ``end_at`` passes with nothing new (the
    cursor its idle polls moved, for the sensor to save), or ``{"status": "error", "error_class":
    ..., "message": ..., ...}`` for a failure that waiting cannot fix. Transient failures are logged
    and polled through. The key is not in the payload: the trigger looks the connection up by id
    on the triggerer.

    :param path: ``/v1/charges`` or ``/v1/refunds``.
    :param cursor: the sensor's cursor, as JSON.
    :param filters: list filters (``customer``; ``charge`` / ``payment_intent``).
    :param end_at: epoch seconds (the sensor's timeout) after which it stops polling and fires the
        timeout event; None to poll until something is new.

    The connection, connected account and polling settings are
    :class:`~airflow_provider_stripe.triggers.polls.PollsStripe`'s.
    """

    def __init__(
        self,
        *,
        path: str,
        cursor: str,
        filters: Mapping[str, Any] | None = None,
        end_at: float | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.path = path
        self.cursor = cursor
        self.filters = dict(filters or {})
        self.end_at = end_at

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "path": self.path,
                "cursor": self.cursor,
                "filters": self.filters,
                "end_at": self.end_at,
                **self._polling_settings(),
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
                wait = max(0.0, started + self.poll_interval - time.monotonic())
                if self.end_at is not None and time.time() + wait >= self.end_at:
                    # The sensor's timeout: hand back what the idle polls learned instead of being
                    # cancelled with it, so that the next run does not list it again.
                    await asyncio.sleep(max(0.0, self.end_at - time.time()))
                    yield TriggerEvent({"status": "timeout", "cursor": cursor.to_json()})
                    return
                await asyncio.sleep(wait)
        finally:
            await hook.aclose()


class StripeNewEventsTrigger(PollsStripeEvents, StripeNewObjectsTrigger):
    """Poll ``/v1/events`` on the triggerer until new events of ``event_types`` show up (one trigger
    event, as :class:`StripeNewObjectsTrigger`); what ``StripeNewEventSensor`` defers to.

    Its parameters are :class:`~airflow_provider_stripe.triggers.polls.PollsStripeEvents`' and
    ``cursor``, the sensor's cursor as JSON.
    """

    def __init__(self, *, event_types: str | Sequence[str], **kwargs: Any) -> None:
        super().__init__(
            event_types=event_types, path=EVENTS_PATH, filters=event_type_filters(event_types), **kwargs
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        classpath, kwargs = super().serialize()
        del kwargs["path"], kwargs["filters"]
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
