"""What Airflow's provider manager reads about this provider (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_stripe import __version__
from airflow_provider_stripe.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR


def get_provider_info() -> dict[str, Any]:
    return {
        # Must equal the distribution name, or `airflow providers list` fails.
        "package-name": "airflow-provider-stripe",
        "name": "Stripe",
        "description": (
            "Stripe connection, new-charge / new-refund sensors, create/find operators, the connected "
            "accounts list and exports."
        ),
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "stripe",
                "hook-class-name": "airflow_provider_stripe.hooks.stripe.StripeHook",
                "hook-name": "Stripe",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "hooks": _modules("airflow_provider_stripe.hooks.stripe"),
        "operators": _modules("airflow_provider_stripe.operators.stripe"),
        "sensors": _modules("airflow_provider_stripe.sensors.stripe"),
        "triggers": _modules(
            "airflow_provider_stripe.triggers.stripe", "airflow_provider_stripe.triggers.stripe_events"
        ),
        "transfers": [
            {
                "source-integration-name": "Stripe",
                "target-integration-name": "Common IO",
                "python-module": "airflow_provider_stripe.transfers.stripe_to_object_storage",
            }
        ],
        "integrations": [
            {
                "integration-name": "Stripe",
                "external-doc-url": "https://docs.stripe.com/api",
                "tags": ["service"],
            }
        ],
    }


def _modules(*python_modules: str) -> list[dict[str, Any]]:
    """One entry of a ``hooks`` / ``operators`` / ``sensors`` / ``triggers`` list."""
    return [{"integration-name": "Stripe", "python-modules": list(python_modules)}]
