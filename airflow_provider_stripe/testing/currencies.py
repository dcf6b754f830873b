"""The emulator's names for the provider's currency facts (one home: ``airflow_provider_stripe.currencies``).

Amounts are integers in the currency's smallest unit: cents for USD, whole yen for the zero-decimal
JPY. The minimum charge is the account's settlement currency's, converted:
:mod:`~airflow_provider_stripe.testing.settlement`.
"""

from __future__ import annotations

from airflow_provider_stripe.currencies import (
    MAXIMUM_AMOUNT,
    decimals,
    format_amount,
)
from airflow_provider_stripe.currencies import MINIMUM_CHARGE_AMOUNTS as MINIMUM_CHARGE
from airflow_provider_stripe.currencies import SUPPORTED_CURRENCIES as SUPPORTED
from airflow_provider_stripe.currencies import THREE_DECIMAL_CURRENCIES as THREE_DECIMAL
from airflow_provider_stripe.currencies import ZERO_DECIMAL_CURRENCIES as ZERO_DECIMAL

__all__ = [
    "MAXIMUM_AMOUNT",
    "MINIMUM_CHARGE",
    "SUPPORTED",
    "THREE_DECIMAL",
    "ZERO_DECIMAL",
    "decimals",
    "format_amount",
]
