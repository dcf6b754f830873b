"""The platform's connected accounts (Stripe Connect): create one, list them.

Stripe's API reference, "Create an account" (``POST /v1/accounts``, ``type`` ``custom``, ``express``
or ``standard``, or the ``controller`` properties instead) and "List all connected accounts"
(``GET /v1/accounts``: newest first, ``created`` and the usual cursors; "if you're not a platform,
the list is empty"). Each account lives in the platform's ledger of the key's mode; what the platform
then does for it (``Stripe-Account``) lives in the account's own ledger. A connected account has no
connected accounts of its own to reach: Stripe answers "You cannot access the connected accounts of
your platform's connected accounts." (stripe/stripe-apps#846, a Stripe engineer confirming it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.errors import StripeAPIError
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.listing import LIST_SCHEMA, list_page
from airflow_provider_stripe.testing.params import Schema, choice, email, metadata, text, texts
from airflow_provider_stripe.testing.resources.account import account_object

TYPES = ("custom", "express", "standard")

#: Who controls an account of each legacy ``type``: its Dashboard, who collects its requirements,
#: pays its fees and bears its losses (Stripe's "controller" properties that replace ``type``).
_CONTROLLERS: dict[str, dict[str, Any]] = {
    "standard": {"dashboard": "full", "requirements": "stripe", "fees": "account", "losses": "stripe"},
    "express": {
        "dashboard": "express",
        "requirements": "stripe",
        "fees": "application",
        "losses": "application",
    },
    "custom": {
        "dashboard": "none",
        "requirements": "application",
        "fees": "application",
        "losses": "application",
    },
}

CREATE: Schema = {
    "type": choice(*TYPES),
    "country": text(),
    "email": email(),
    "metadata": metadata(),
    "expand": texts(),
}
LIST: Schema = LIST_SCHEMA


def _platform_only(ctx: ApiContext) -> None:
    if ctx.connected_account is not None:
        raise StripeAPIError(
            403, "You cannot access the connected accounts of your platform's connected accounts."
        )


def _controller(account_type: str) -> dict[str, Any]:
    roles = _CONTROLLERS[account_type]
    return {
        "fees": {"payer": roles["fees"]},
        "is_controller": True,
        "losses": {"payments": roles["losses"]},
        "requirement_collection": roles["requirements"],
        "stripe_dashboard": {"type": roles["dashboard"]},
        "type": "application",
    }


def create(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    _platform_only(ctx)
    account_type = params.get("type") or "standard"
    account = account_object(
        new_id("acct"),
        ctx.created,
        type=account_type,
        controller=_controller(account_type),
        name=None,
        email=params.get("email"),
        country=params.get("country") or "US",
        metadata=params.get("metadata"),
    )
    return ctx.save("account", account).obj


def list_(ctx: ApiContext, params: dict[str, Any], _: Mapping[str, str]) -> dict[str, Any]:
    _platform_only(ctx)
    return list_page(ctx.ledger["account"], params, "/v1/accounts", ctx.listable)


ENDPOINTS = (
    Endpoint("POST", "/v1/accounts", "account", "write", "AccountCreateParams", CREATE, create),
    Endpoint("GET", "/v1/accounts", "account", "read", "AccountListParams", LIST, list_),
)
