"""Updates of customers, products, charges and refunds, and product deletion: the changes events report.

Each update takes only the parameters Stripe's API reference lists for it ("Update a customer",
"Update a product", "Update a charge", "Update a refund", which takes only ``metadata``:
https://docs.stripe.com/api), applies them, and records
``<kind>.updated`` with ``previous_attributes`` holding the old value of each changed attribute
(for ``metadata``, of each changed key; Stripe merges metadata and an empty value removes a key).
An update that changes nothing records no event.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint, Handler
from airflow_provider_stripe.testing.errors import invalid
from airflow_provider_stripe.testing.params import Field, Schema, metadata
from airflow_provider_stripe.testing.resources import charges, customers, events, products, refunds, shapes
from airflow_provider_stripe.testing.resources.instruments import new_instrument
from airflow_provider_stripe.testing.store import Record

Apply = Callable[[ApiContext, Record, Any], Any]
"""The attribute's new value, from the request's value (and the object, for rules that need it)."""


def _as_given(_: ApiContext, __: Record, value: Any) -> Any:
    return value


def _merged_metadata(_: ApiContext, record: Record, value: Any) -> dict[str, str]:
    if value is None:  # ``metadata=""`` unsets every key
        return {}
    merged = {**record.obj["metadata"], **value}
    return {key: text for key, text in merged.items() if text not in ("", None)}


def _customer_shipping(_: ApiContext, __: Record, value: Any) -> Any:
    return shapes.shipping(value)


def _charge_shipping(_: ApiContext, __: Record, value: Any) -> Any:
    return shapes.shipping(value, "carrier", "tracking_number")


def _address(_: ApiContext, __: Record, value: Any) -> Any:
    return shapes.address(value)


def _new_default_source(ctx: ApiContext, record: Record, value: Any) -> Any:
    return new_instrument(ctx, value, customer=record.id, param="source").id


def _charge_customer(ctx: ApiContext, record: Record, value: Any) -> Any:
    if record.obj["customer"] not in (None, value):
        raise invalid("customer", "This charge already has a customer; it cannot be changed.")
    return ctx.find("customer", value, param="customer").id


#: For each kind: the update parameters the emulator keeps, and which attribute each sets how. The
#: other parameters Stripe accepts (stripe-python's ``*UpdateParams``) are accepted and ignored.
_UPDATABLE: dict[str, dict[str, tuple[str, Apply]]] = {
    "customer": {
        "address": ("address", _address),
        "balance": ("balance", _as_given),
        "description": ("description", _as_given),
        "email": ("email", _as_given),
        "invoice_prefix": ("invoice_prefix", _as_given),
        "metadata": ("metadata", _merged_metadata),
        "name": ("name", _as_given),
        "next_invoice_sequence": ("next_invoice_sequence", _as_given),
        "phone": ("phone", _as_given),
        "preferred_locales": ("preferred_locales", _as_given),
        "shipping": ("shipping", _customer_shipping),
        "source": ("default_source", _new_default_source),
        "tax_exempt": ("tax_exempt", _as_given),
    },
    "product": {
        "active": ("active", _as_given),
        "default_price": ("default_price", _as_given),
        "description": ("description", _as_given),
        "images": ("images", _as_given),
        "marketing_features": ("marketing_features", _as_given),
        "metadata": ("metadata", _merged_metadata),
        "name": ("name", _as_given),
        "package_dimensions": ("package_dimensions", _as_given),
        "shippable": ("shippable", _as_given),
        "statement_descriptor": ("statement_descriptor", _as_given),
        "tax_code": ("tax_code", _as_given),
        "unit_label": ("unit_label", _as_given),
        "url": ("url", _as_given),
    },
    "charge": {
        "customer": ("customer", _charge_customer),
        "description": ("description", _as_given),
        "fraud_details": ("fraud_details", _as_given),
        "metadata": ("metadata", _merged_metadata),
        "receipt_email": ("receipt_email", _as_given),
        "shipping": ("shipping", _charge_shipping),
        "transfer_group": ("transfer_group", _as_given),
    },
    "refund": {"metadata": ("metadata", _merged_metadata)},
}

_CREATE_SCHEMAS: dict[str, Schema] = {
    "customer": customers.CREATE,
    "product": products.CREATE,
    "charge": charges.CREATE,
    "refund": refunds.CREATE,
}


def _metadata_update(param: str, value: Any) -> dict[str, str]:
    """Metadata as on create, but keeping the keys sent empty: an update removes those."""
    kept = metadata().coerce(param, value)
    return {**{key: "" for key, item in value.items() if item == ""}, **kept}


def _modelled(kind: str) -> Schema:
    """The create endpoint's field rules for the update parameters it shares, none of them required."""
    create = {**_CREATE_SCHEMAS[kind], "metadata": Field(_metadata_update)}
    return {name: replace(create[name], required=False) for name in _UPDATABLE[kind] if name in create}


def _previous(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed, as it was; for metadata only the keys that changed (``None`` for a new key)."""
    previous: dict[str, Any] = {}
    for name, value in new.items():
        if old.get(name) == value:
            continue
        if name == "metadata":
            keys = set(old[name]) | set(value)
            previous[name] = {
                key: old[name].get(key) for key in sorted(keys) if old[name].get(key) != value.get(key)
            }
        else:
            previous[name] = copy.deepcopy(old.get(name))
    return previous


def _update(kind: str) -> Handler:
    def update(ctx: ApiContext, params: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
        record = ctx.find(kind, path["id"], param="id", status=404)
        before = copy.deepcopy(record.obj)
        for name, value in params.items():
            target = _UPDATABLE[kind].get(name)
            if target is not None:
                attribute, apply = target
                record.obj[attribute] = apply(ctx, record, value)
        previous = _previous(before, record.obj)
        if previous:
            if "updated" in record.obj:  # products stamp their last change
                previous["updated"] = record.obj["updated"]
                record.obj["updated"] = ctx.created
            events.record(ctx, f"{kind}.updated", record.obj, previous)
        return record.obj

    return update


def delete_product(ctx: ApiContext, _: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    """Stripe's ``DELETE /v1/products/{id}``; a deleted product is then "No such product" everywhere."""
    record = ctx.find("product", path["id"], param="id", status=404)
    record.deleted = True
    return {"id": record.id, "object": "product", "deleted": True}


ENDPOINTS = (
    Endpoint(
        "POST", "/v1/customers/{id}", "customer", "write", "CustomerUpdateParams", _modelled("customer"),
        _update("customer"),
    ),
    Endpoint(
        "POST", "/v1/products/{id}", "product", "write", "ProductUpdateParams", _modelled("product"),
        _update("product"),
    ),
    Endpoint(
        "POST", "/v1/charges/{id}", "charge", "write", "ChargeUpdateParams", _modelled("charge"),
        _update("charge"),
    ),
    Endpoint(
        "POST", "/v1/refunds/{id}", "refund", "write", "RefundUpdateParams", _modelled("refund"),
        _update("refund"),
    ),
    Endpoint("DELETE", "/v1/products/{id}", "product", "write", "ProductDeleteParams", {}, delete_product),
)  # fmt: skip
