"""Customers: create (optionally with a card or PaymentMethod), retrieve (deleted ones too), list, delete."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from airflow_provider_stripe.limits import (
    CUSTOMER_DESCRIPTION_MAX_LENGTH,
    CUSTOMER_NAME_MAX_LENGTH,
    CUSTOMER_PHONE_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    INVOICE_PREFIX_PATTERN,
)
from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.listing import LIST_SCHEMA, field_filter, list_page
from airflow_provider_stripe.testing.params import (
    ADDRESS,
    Schema,
    choice,
    email,
    integer,
    matching,
    metadata,
    nested,
    required,
    text,
    texts,
)
from airflow_provider_stripe.testing.resources import shapes
from airflow_provider_stripe.testing.resources.instruments import detach_all, new_instrument

SHIPPING: Schema = {"address": required(nested(ADDRESS)), "name": required(text()), "phone": text()}

CREATE: Schema = {
    "address": nested(ADDRESS),
    "balance": integer(),
    "description": text(CUSTOMER_DESCRIPTION_MAX_LENGTH),
    "email": email(EMAIL_MAX_LENGTH),
    "invoice_prefix": matching(INVOICE_PREFIX_PATTERN, "1 to 12 uppercase letters or numbers"),
    "metadata": metadata(),
    "name": text(CUSTOMER_NAME_MAX_LENGTH),
    "payment_method": text(),
    "phone": text(CUSTOMER_PHONE_MAX_LENGTH),
    "preferred_locales": texts(),
    "shipping": nested(SHIPPING),
    "source": text(),
    "tax_exempt": choice("none", "exempt", "reverse"),
    "expand": texts(),
}

LIST: Schema = {**LIST_SCHEMA, "email": text(), "test_clock": text()}
RETRIEVE: Schema = {"expand": texts()}


def create(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    customer_id = new_id("cus")
    default_source = None
    if params.get("source"):
        default_source = new_instrument(ctx, params["source"], customer=customer_id, param="source").id
    if params.get("payment_method"):
        new_instrument(ctx, params["payment_method"], customer=customer_id, param="payment_method")
    customer = {
        "id": customer_id,
        "object": "customer",
        "address": shapes.address(params.get("address")),
        "balance": params.get("balance") or 0,
        "created": ctx.created,
        "currency": None,
        "default_source": default_source,
        "delinquent": False,
        "description": params.get("description"),
        "discount": None,
        "email": params.get("email"),
        "invoice_prefix": params.get("invoice_prefix") or secrets.token_hex(4).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": ctx.livemode,
        "metadata": params.get("metadata") or {},
        "name": params.get("name"),
        "next_invoice_sequence": 1,
        "phone": params.get("phone"),
        "preferred_locales": params.get("preferred_locales") or [],
        "shipping": shapes.shipping(params.get("shipping")),
        "tax_exempt": params.get("tax_exempt") or "none",
        "test_clock": params.get("test_clock"),
    }
    return ctx.save("customer", customer).obj


def retrieve(ctx: ApiContext, _: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    return ctx.find("customer", path["id"], param="id", status=404, deleted_ok=True).obj


def delete(ctx: ApiContext, _: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    record = ctx.find("customer", path["id"], param="id", status=404)
    record.obj = {"id": record.id, "object": "customer", "deleted": True}
    record.deleted = True
    detach_all(ctx, record.id)
    return record.obj


def list_(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    matches = field_filter(params, ("email",))  # exact and case-sensitive, as Stripe's
    return list_page(
        ctx.ledger["customer"], params, "/v1/customers", lambda r: ctx.listable(r) and matches(r)
    )


ENDPOINTS = (
    Endpoint("POST", "/v1/customers", "customer", "write", "CustomerCreateParams", CREATE, create),
    Endpoint("GET", "/v1/customers", "customer", "read", "CustomerListParams", LIST, list_),
    Endpoint("GET", "/v1/customers/{id}", "customer", "read", "CustomerRetrieveParams", RETRIEVE, retrieve),
    Endpoint("DELETE", "/v1/customers/{id}", "customer", "write", "CustomerDeleteParams", {}, delete),
)
