"""The Stripe connection form, declared once as data.

Airflow 3.2+ reads it from ``get_provider_info()`` (``conn-fields`` / ``ui-field-behaviour``);
Airflow 2.11 asks the hook's classmethods, which build their widgets from the same data.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_stripe.api.defaults import (
    DEFAULT_BACKOFF_INITIAL,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_MAX_RETRIES,
    DEFAULT_STRIPE_VERSION,
    DEFAULT_TIMEOUT,
    EXTRA_BOUNDS,
)


def _number_schema(name: str) -> dict[str, Any]:
    bounds = EXTRA_BOUNDS[name]
    kind = "integer" if bounds.whole else "number"
    return {"type": [kind, "null"], "minimum": bounds.minimum, "maximum": bounds.maximum}


CONN_FIELDS: dict[str, dict[str, Any]] = {
    "stripe_version": {
        "label": "Stripe API version",
        "description": (
            "Pinned Stripe-Version header, like 2024-06-20 or 2025-03-31.basil. "
            f"Leave empty for {DEFAULT_STRIPE_VERSION}."
        ),
        "schema": {"type": ["string", "null"]},
    },
    "stripe_account": {
        "label": "Connected account (Stripe-Account)",
        "description": "Stripe Connect: act on behalf of this connected account, e.g. acct_1032D82eZvKYlo2C.",
        "schema": {"type": ["string", "null"]},
    },
    "max_retries": {
        "label": "Max retries",
        "description": (
            "Retries of a failed request (connection errors, 409, 424, 429, 5xx) with exponential backoff "
            f"and jitter. Default {DEFAULT_MAX_RETRIES}."
        ),
        "schema": _number_schema("max_retries"),
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "description": f"Per-request timeout. Default {DEFAULT_TIMEOUT:g} s.",
        "schema": _number_schema("timeout"),
    },
    "backoff_initial": {
        "label": "First retry delay (seconds)",
        "description": (
            f"Base of the exponential backoff between retries. Default {DEFAULT_BACKOFF_INITIAL:g} s."
        ),
        "schema": _number_schema("backoff_initial"),
    },
    "backoff_max": {
        "label": "Longest retry delay (seconds)",
        "description": f"Cap of the exponential backoff between retries. Default {DEFAULT_BACKOFF_MAX:g} s.",
        "schema": _number_schema("backoff_max"),
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["port", "login", "schema"],
    "relabeling": {"password": "API key", "host": "API base URL (optional)"},
    "placeholders": {
        "password": "sk_test_... / sk_live_... / rk_test_... / rk_live_...",
        "host": "https://api.stripe.com (or http://127.0.0.1:12111 for the local emulator)",
    },
}
