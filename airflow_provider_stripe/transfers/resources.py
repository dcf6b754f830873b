"""The Stripe lists an export can read: every ``GET /v1/<resource>`` list that takes a ``created`` filter.

The table is derived from stripe-python 16.1.0 (each service's ``list`` whose ``*ListParams`` has a
``created`` field); ``tests/transfers/test_resources.py`` re-derives it from the installed SDK, so it
cannot drift from the pinned API. A resource is named by its path after ``/v1/``.
"""

from __future__ import annotations

from airflow_provider_stripe.exceptions import StripeValidationError

EXPORTABLE_RESOURCES: frozenset[str] = frozenset(
    {
        "accounts",
        "application_fees",
        "apps/installs",
        "balance_transactions",
        "charges",
        "checkout/sessions",
        "coupons",
        "credit_notes",
        "customers",
        "disputes",
        "events",
        "file_links",
        "files",
        "forwarding/requests",
        "identity/verification_reports",
        "identity/verification_sessions",
        "invoice_payments",
        "invoiceitems",
        "invoices",
        "issuing/authorizations",
        "issuing/cardholders",
        "issuing/cards",
        "issuing/disputes",
        "issuing/transactions",
        "payment_intents",
        "payouts",
        "plans",
        "prices",
        "product_catalog/trial_offers",
        "products",
        "promotion_codes",
        "radar/early_fraud_warnings",
        "radar/value_lists",
        "refunds",
        "reporting/report_runs",
        "reviews",
        "setup_intents",
        "shipping_rates",
        "subscription_schedules",
        "subscriptions",
        "tax_rates",
        "three_d_secure/authentications",
        "topups",
        "transfers",
        "treasury/financial_accounts",
    }
)


def list_path(resource: str) -> str:
    """The API path of an exportable resource's list, e.g. ``/v1/charges``.

    :raises StripeValidationError: naming ``resource`` when it is not in the table.
    """
    if resource not in EXPORTABLE_RESOURCES:
        raise StripeValidationError(
            f"resource must be a Stripe list that takes a `created` filter, such as 'charges', "
            f"'refunds', 'customers', 'products' or 'events' "
            f"(all: {', '.join(sorted(EXPORTABLE_RESOURCES))}); got {resource!r}.",
            param="resource",
        )
    return f"/v1/{resource}"
