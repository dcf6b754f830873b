"""Triggers: the async side of the Stripe sensors (and, on Airflow 3.3+, of event-driven DAGs)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_stripe.exceptions import StripeError, StripeValidationError
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.polling.poll import PollResult, run_poll_async
from airflow_provider_stripe.polling.watch import Watch, ends_the_wait


class StripeNewObjectsTrigger(BaseTrigger):
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
        max_batch: int = 100,
        lookback_seconds: int = 300,
        poll_interval: float = 15.0,
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
        from airflow_provider_stripe.hooks.stripe import StripeHook

        watch = Watch(self.path, self.filters, self.max_batch, self.lookback_seconds)
        cursor = Cursor.from_json(self.cursor)
        hook = StripeHook(self.stripe_conn_id)
        try:
            while True:
                try:
                    result = await poll_once(hook, watch, cursor)
                except StripeError as error:
                    if ends_the_wait(error):
                        yield TriggerEvent(error_event(error))
                        return
                    self.log.warning(
                        "Stripe poll failed, trying again in %s s: %s", self.poll_interval, error
                    )
                else:
                    self.log.info(watch.describe(result, "objects"))
                    if result.objects:
                        yield TriggerEvent(
                            {
                                "status": "success",
                                "objects": result.objects,
                                "cursor": result.cursor.to_json(),
                            }
                        )
                        return
                await asyncio.sleep(self.poll_interval)
        finally:
            await hook.aclose()


async def poll_once(hook: Any, watch: Watch, cursor: Cursor) -> PollResult:
    """One poll of ``watch`` through the hook's async client."""

    async def fetch(query: dict[str, Any]) -> dict[str, Any]:
        page: dict[str, Any] = await hook.arequest("GET", watch.path, query)
        return page

    return await run_poll_async(watch.poll(cursor), fetch)


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


try:  # Airflow 3.0+
    from airflow.triggers.base import BaseEventTrigger as _EventTriggerBase
except ImportError:  # Airflow 2.x: no event-driven scheduling; the classes below refuse to build.
    _EventTriggerBase = BaseTrigger  # type: ignore[misc,assignment]

EVENT_CURSOR_KEY = "stripe_cursor"


def _require_event_triggers() -> None:
    from airflow import __version__
    from packaging.version import Version

    if Version(__version__).release < (3, 3):
        raise StripeValidationError(
            f"Stripe event triggers schedule DAGs on an Asset with an AssetWatcher and keep their "
            f"cursor in the asset state store, which needs Airflow 3.3 or newer (this is Airflow "
            f"{__version__}). Use StripeNewChargeSensor / StripeNewRefundSensor instead.",
            param="trigger",
        )


class _StripeNewObjectsEventTrigger(_EventTriggerBase):
    """Fire one event per batch of new objects, forever, for an ``AssetWatcher``.

    The cursor lives in the watched asset's state store (Airflow 3.3+), written after each event
    is handed to the triggerer, so a new trigger instance (a triggerer restart) resumes where the
    last one stopped: it neither re-fires an old batch nor skips objects created meanwhile.
    """

    path: str
    filter_names: tuple[str, ...]

    def __init__(
        self,
        *,
        stripe_conn_id: str = "stripe_default",
        poll_interval: float = 15.0,
        max_batch: int = 100,
        lookback_seconds: int = 300,
        start_from: float | None = None,
        **filters: str | None,
    ) -> None:
        _require_event_triggers()
        super().__init__()
        self.stripe_conn_id = stripe_conn_id
        self.poll_interval = poll_interval
        self.max_batch = max_batch
        self.lookback_seconds = lookback_seconds
        self.start_from = start_from
        self.filters = {name: filters.get(name) for name in self.filter_names}
        self.watch = Watch.checked(self.path, self.filters, max_batch, lookback_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "stripe_conn_id": self.stripe_conn_id,
                "poll_interval": self.poll_interval,
                "max_batch": self.max_batch,
                "lookback_seconds": self.lookback_seconds,
                "start_from": self.start_from,
                **{name: value for name, value in self.filters.items() if value},
            },
        )

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
        stored = await store.aget(EVENT_CURSOR_KEY)
        if stored:
            return Cursor.from_json(str(stored))
        start = int(self.start_from if self.start_from is not None else time.time())
        cursor = Cursor.starting_at(start)
        await store.aset(EVENT_CURSOR_KEY, cursor.to_json())  # "now" must not move on a restart
        return cursor

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_stripe.hooks.stripe import StripeHook

        store = self._state_store()
        cursor = await self._load_cursor(store)
        hook = StripeHook(self.stripe_conn_id)
        try:
            while True:
                try:
                    result = await poll_once(hook, self.watch, cursor)
                except StripeError as error:
                    if ends_the_wait(error):
                        raise
                    self.log.warning(
                        "Stripe poll failed, trying again in %s s: %s", self.poll_interval, error
                    )
                else:
                    if result.objects:
                        self.log.info(self.watch.describe(result, "objects"))
                        yield TriggerEvent({"objects": result.objects, "cursor": result.cursor.to_json()})
                        cursor = result.cursor
                        await store.aset(EVENT_CURSOR_KEY, cursor.to_json())
                        continue
                await asyncio.sleep(self.poll_interval)
        finally:
            await hook.aclose()


class StripeNewChargeEventTrigger(_StripeNewObjectsEventTrigger):
    """Event trigger for ``AssetWatcher``: one event per batch of new charges (of one ``customer``, if set).

    :param stripe_conn_id: the Stripe connection.
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
