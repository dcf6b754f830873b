"""Events: one per change to the emulated objects, listed and retrieved as Stripe's ``/v1/events``.

Follows Stripe's API reference, "The Event object", "List all events" and "Retrieve an event"
(https://docs.stripe.com/api/events): an event snapshots ``data.object`` when it happens (later
changes do not rewrite it), carries ``data.previous_attributes`` on ``*.updated``, the request that
caused it (``request.id`` / ``request.idempotency_key``) and the API version its payload is rendered
in; the list takes ``type`` (one type, ``*`` as a wildcard) or ``types`` (up to 20), not both, plus
``created`` and the usual cursors; events older than 30 days are neither listed nor retrievable.

The resources' own create and delete endpoints stay unaware of events: :func:`recorded` wraps their
handlers with the events Stripe sends for them (the table :data:`_EMITTED`). The update endpoints
(:mod:`.updates`) call :func:`record` themselves, since only they know the previous attributes.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint, Handler
from airflow_provider_stripe.testing.errors import StripeAPIError, invalid, resource_missing
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.listing import LIST_SCHEMA, list_page
from airflow_provider_stripe.testing.params import Schema, flag, text, texts
from airflow_provider_stripe.testing.store import Record

RETENTION_SECONDS = 30 * 24 * 3600
"""Stripe keeps events for 30 days ("List all events": "events going back up to 30 days")."""
MAX_TYPES = 20
ACCOUNT_API_VERSION = "2025-03-31.basil"
"""The emulated account's default API version, in which event payloads are rendered (not the
version a request pins: Stripe renders events once, for the account)."""

LIST: Schema = {**LIST_SCHEMA, "delivery_success": flag(), "type": text(), "types": texts()}
RETRIEVE: Schema = {"expand": texts()}


def record(
    ctx: ApiContext, event_type: str, obj: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> None:
    """Store the event for ``obj`` changing now; ``previous`` is what an update changed, as it was."""
    data: dict[str, Any] = {"object": copy.deepcopy(dict(obj))}
    if previous is not None:
        data["previous_attributes"] = copy.deepcopy(dict(previous))
    event: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": ACCOUNT_API_VERSION,
        "created": ctx.created,
        "data": data,
        "livemode": ctx.livemode,
        "pending_webhooks": 0,
        "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
        "type": event_type,
    }
    if ctx.connected_account is not None:
        event["account"] = ctx.connected_account
    ctx.save("event", event)


def _retained(ctx: ApiContext, record_: Record) -> bool:
    return int(record_.obj["created"]) > ctx.now - RETENTION_SECONDS


def _type_filter(params: Mapping[str, Any]) -> Callable[[str], bool]:
    single, several = params.get("type"), params.get("types")
    if single is not None and several is not None:
        raise invalid(
            "types", "You may only specify one of these parameters: type, types.", "parameters_exclusive"
        )
    if several is not None:
        if len(several) > MAX_TYPES:
            raise invalid("types", f"You may only specify up to {MAX_TYPES} event types.")
        wanted = set(several)
        return lambda event_type: event_type in wanted
    if single is not None:
        return lambda event_type: fnmatchcase(event_type, single)
    return lambda _: True


def list_(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    wanted = _type_filter(params)
    delivered = params.get("delivery_success")

    def include(record_: Record) -> bool:
        # delivery_success: all webhooks delivered (none pending), or not (stripe-python EventListParams).
        return (
            ctx.listable(record_)
            and _retained(ctx, record_)
            and wanted(record_.obj["type"])
            and (delivered is None or delivered == (record_.obj["pending_webhooks"] == 0))
        )

    return list_page(ctx.ledger["event"], params, "/v1/events", include)


def retrieve(ctx: ApiContext, _: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    record_ = ctx.find("event", path["id"], param="id", status=404)
    if not _retained(ctx, record_):
        raise resource_missing("event", path["id"], param="id", status=404)
    return record_.obj


ENDPOINTS = (
    Endpoint("GET", "/v1/events", "event", "read", "EventListParams", LIST, list_),
    Endpoint("GET", "/v1/events/{id}", "event", "read", "EventRetrieveParams", RETRIEVE, retrieve),
)


def _created(kind: str) -> Callable[[Handler], Handler]:
    """``<kind>.created`` with the new object."""

    def wrap(handler: Handler) -> Handler:
        def handle(ctx: ApiContext, params: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
            obj = handler(ctx, params, path)
            record(ctx, f"{kind}.created", obj)
            return obj

        return handle

    return wrap


def _deleted(kind: str) -> Callable[[Handler], Handler]:
    """``<kind>.deleted`` with the object as it was (Stripe's event carries it, not the tombstone)."""

    def wrap(handler: Handler) -> Handler:
        def handle(ctx: ApiContext, params: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
            before = copy.deepcopy(ctx.find(kind, path["id"], param="id", status=404).obj)
            answer = handler(ctx, params, path)
            record(ctx, f"{kind}.deleted", before)
            return answer

        return handle

    return wrap


def _charge_outcome(handler: Handler) -> Handler:
    """``charge.succeeded``; ``charge.failed`` for a declined one (Stripe keeps it, then answers 402)."""

    def handle(ctx: ApiContext, params: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
        try:
            charge = handler(ctx, params, path)
        except StripeAPIError as error:
            failed = ctx.ledger["charge"].get(str(error.extra.get("charge")))
            if failed is not None:
                record(ctx, "charge.failed", failed.obj)
            raise
        record(ctx, "charge.succeeded", charge)
        return charge

    return handle


def _refund_created(handler: Handler) -> Handler:
    """``charge.refunded`` (the charge, with what the refund changed) and ``refund.created``."""

    def handle(ctx: ApiContext, params: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
        refund = handler(ctx, params, path)
        charge = ctx.ledger["charge"].get(refund["charge"])
        if charge is not None:
            amount_refunded = charge.obj["amount_refunded"]
            previous: dict[str, Any] = {"amount_refunded": amount_refunded - refund["amount"]}
            if charge.obj["refunded"]:
                previous["refunded"] = False
            record(ctx, "charge.refunded", charge.obj, previous)
        record(ctx, "refund.created", refund)
        return refund

    return handle


_EMITTED: dict[tuple[str, str], Callable[[Handler], Handler]] = {
    ("POST", "/v1/customers"): _created("customer"),
    ("DELETE", "/v1/customers/{id}"): _deleted("customer"),
    ("POST", "/v1/products"): _created("product"),
    ("DELETE", "/v1/products/{id}"): _deleted("product"),
    ("POST", "/v1/charges"): _charge_outcome,
    ("POST", "/v1/refunds"): _refund_created,
}


def recorded(endpoints: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
    """``endpoints`` with the events Stripe sends for each of them recorded after it succeeds."""
    return tuple(
        dataclasses.replace(endpoint, handler=_EMITTED[endpoint.method, endpoint.path](endpoint.handler))
        if (endpoint.method, endpoint.path) in _EMITTED
        else endpoint
        for endpoint in endpoints
    )
