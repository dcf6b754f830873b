"""The account the API keys belong to (or the connected account named by ``Stripe-Account``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_stripe.testing.endpoint import ApiContext, Endpoint
from airflow_provider_stripe.testing.listing import list_object
from airflow_provider_stripe.testing.params import texts

CREATED = 1_700_000_000

STATEMENT_DESCRIPTOR = "STRIPE EMULATOR"
"""The account's static descriptor (``settings.payments.statement_descriptor``)."""
STATEMENT_DESCRIPTOR_PREFIX = "EMULATOR"
"""Its shortened descriptor (``settings.card_payments.statement_descriptor_prefix``, 2-10 characters),
which a card charge's dynamic suffix follows."""


def account_object(
    account_id: str,
    created: int,
    *,
    type: str = "standard",
    controller: dict[str, Any] | None = None,
    name: str | None = "Stripe Emulator",
    email: str | None = "emulator@example.com",
    country: str = "US",
    default_currency: str = "usd",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An ``account`` object: the platform's own (the defaults) or a connected account's."""
    requirements: dict[str, Any] = {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "minority_owned_business_designation": None,
            "name": name,
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": controller or {"type": "account"},
        "country": country,
        "created": created,
        "default_currency": default_currency,
        "details_submitted": True,
        "email": email,
        "external_accounts": list_object([], False, f"/v1/accounts/{account_id}/external_accounts"),
        "future_requirements": requirements,
        "metadata": metadata or {},
        "payouts_enabled": True,
        "requirements": dict(requirements),
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": STATEMENT_DESCRIPTOR_PREFIX,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": name, "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": None},
            "payments": {
                "statement_descriptor": None if name is None else name.upper()[:22],
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": created, "ip": None, "user_agent": None},
        "type": type,
    }


def retrieve(ctx: ApiContext, _: dict[str, Any], __: Mapping[str, str]) -> dict[str, Any]:
    return account_object(
        ctx.account_id,
        CREATED,
        country=ctx.settings.country,
        default_currency=ctx.settings.settlement_currency,
    )


ENDPOINTS = (
    Endpoint(
        "GET", "/v1/account", "account", "read", "AccountRetrieveCurrentParams", {"expand": texts()}, retrieve
    ),
)
