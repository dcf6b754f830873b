"""The Stripe lists an export can read, and which of them take a ``created`` filter.

An export by ``created`` (``window="data_interval"`` or ``"incremental"``) reads the lists of
:data:`EXPORTABLE_RESOURCES`, every ``GET /v1/<resource>`` list that takes ``created``; a snapshot
(``window="all"``) reads those and :data:`SNAPSHOT_ONLY_RESOURCES`, the lists without it. Both tables
are derived from stripe-python 16.1.0 (each service's ``list`` and whether its ``*ListParams`` has a
``created`` field); ``tests/transfers/test_export_checks.py`` re-derives them from the installed SDK,
so they cannot drift from the pinned API. A resource is named by its path after ``/v1/``.
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


#: The lists without a ``created`` filter: a snapshot (``window="all"``) is the only way to export them.
SNAPSHOT_ONLY_RESOURCES: frozenset[str] = frozenset(
    {
        "apple_pay/domains",
        "billing/alerts",
        "billing/credit_balance_transactions",
        "billing/credit_grants",
        "billing/feedback_options",
        "billing/meters",
        "billing_portal/configurations",
        "climate/orders",
        "climate/products",
        "climate/suppliers",
        "country_specs",
        "entitlements/features",
        "exchange_rates",
        "financial_connections/accounts",
        "invoice_rendering_templates",
        "issuing/personalization_designs",
        "issuing/physical_bundles",
        "payment_links",
        "payment_method_configurations",
        "payment_method_domains",
        "payment_methods",
        "payment_records",
        "quotes",
        "reporting/report_types",
        "sigma/scheduled_query_runs",
        "tax/registrations",
        "tax_codes",
        "tax_ids",
        "terminal/configurations",
        "terminal/locations",
        "terminal/readers",
        "test_helpers/test_clocks",
        "webhook_endpoints",
    }
)


def snapshot_path(resource: str) -> str:
    """The API path of any exportable list, with or without a ``created`` filter (``window="all"``).

    :raises StripeValidationError: naming ``resource`` when it is in neither table.
    """
    if resource in SNAPSHOT_ONLY_RESOURCES:
        return f"/v1/{resource}"
    return list_path(resource)


def list_path(resource: str) -> str:
    """The API path of a list that takes ``created``, e.g. ``/v1/charges``.

    :raises StripeValidationError: naming ``resource`` when it is not in the table (a list without
        ``created`` is named as one that only ``window="all"`` can export).
    """
    if resource in SNAPSHOT_ONLY_RESOURCES:
        raise StripeValidationError(
            f"resource {resource!r} is a Stripe list without a `created` filter, so only a snapshot "
            "can export it: set window='all'.",
            param="resource",
        )
    if resource not in EXPORTABLE_RESOURCES:
        raise StripeValidationError(
            f"resource must be a Stripe list that takes a `created` filter, such as 'charges', "
            f"'refunds', 'customers', 'products' or 'events' "
            f"(all: {', '.join(sorted(EXPORTABLE_RESOURCES))}); got {resource!r}.",
            param="resource",
        )
    return f"/v1/{resource}"
