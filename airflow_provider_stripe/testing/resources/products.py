"""Products: create (with an optional caller-chosen id, as Stripe allows), retrieve, list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_stripe.limits import (
    DESCRIPTION_MAX_LENGTH,
    MARKETING_FEATURE_NAME_MAX_LENGTH,
    PRODUCT_MAX_IMAGES,
    PRODUCT_NAME_MAX_LENGTH,
    PRODUCT_UNIT_LABEL_MAX_LENGTH,
)
from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.errors import StripeAPIError, invalid
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.listing import LIST_SCHEMA, field_filter, list_page
from airflow_provider_stripe.testing.params import (
    Schema,
    choice,
    flag,
    items,
    metadata,
    nested,
    non_blank_text,
    required,
    statement_descriptor,
    text,
    texts,
)
from airflow_provider_stripe.testing.store import Record

CREATE: Schema = {
    "id": text(),
    "name": required(non_blank_text(PRODUCT_NAME_MAX_LENGTH)),
    "active": flag(),
    "description": text(DESCRIPTION_MAX_LENGTH),
    "images": texts(PRODUCT_MAX_IMAGES),
    "url": text(),
    "unit_label": text(PRODUCT_UNIT_LABEL_MAX_LENGTH),
    "shippable": flag(),
    "statement_descriptor": statement_descriptor(complete=True),
    "tax_code": text(),
    "metadata": metadata(),
    "type": choice("good", "service"),
    "marketing_features": items(nested({"name": required(text(MARKETING_FEATURE_NAME_MAX_LENGTH))})),
    "expand": texts(),
}

LIST: Schema = {
    **LIST_SCHEMA,
    "active": flag(),
    "ids": texts(),
    "shippable": flag(),
    "type": choice("good", "service"),
    "url": text(),
}
RETRIEVE: Schema = {"expand": texts()}


def create(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    product_id = params.get("id") or new_id("prod")
    if product_id in ctx.ledger["product"]:
        raise StripeAPIError(400, "Product already exists.", code="resource_already_exists", param="id")
    product = {
        "id": product_id,
        "object": "product",
        "active": params.get("active", True) is not False,
        "created": ctx.created,
        "default_price": new_id("price") if params.get("default_price_data") else None,
        "description": params.get("description"),
        "images": params.get("images") or [],
        "livemode": ctx.livemode,
        "marketing_features": params.get("marketing_features") or [],
        "metadata": params.get("metadata") or {},
        "name": params["name"],
        "package_dimensions": params.get("package_dimensions"),
        "shippable": params.get("shippable"),
        "statement_descriptor": params.get("statement_descriptor"),
        "tax_code": params.get("tax_code"),
        "type": params.get("type") or "service",
        "unit_label": params.get("unit_label"),
        "updated": ctx.created,
        "url": params.get("url"),
    }
    return ctx.save("product", product).obj


def retrieve(ctx: ApiContext, _: dict[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    return ctx.find("product", path["id"], param="id", status=404).obj


def list_(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    matches = field_filter(params, ("active", "shippable", "type", "url"))
    ids = set(params["ids"]) if params.get("ids") else None
    cursor = params.get("starting_after") or params.get("ending_before")
    if ids is not None and cursor:
        # stripe-python 16.1.0, ProductListParams.ids: "Cannot be used with starting_after or ending_before."
        raise invalid("ids", "You cannot use ids with starting_after or ending_before.")

    def include(record: Record) -> bool:
        return ctx.listable(record) and matches(record) and (ids is None or record.id in ids)

    return list_page(ctx.ledger["product"], params, "/v1/products", include)


ENDPOINTS = (
    Endpoint("POST", "/v1/products", "product", "write", "ProductCreateParams", CREATE, create),
    Endpoint("GET", "/v1/products", "product", "read", "ProductListParams", LIST, list_),
    Endpoint("GET", "/v1/products/{id}", "product", "read", "ProductRetrieveParams", RETRIEVE, retrieve),
)
