"""The emulator's names for the provider's currency facts (one home: ``airflow_provider_stripe.currencies``).

Amounts are integers in the currency's smallest unit: cents for USD, whole yen for the zero-decimal
JPY. The minimum charge is the account's settlement currency's, converted:
:mod:`~airflow_provider_stripe.testing.settlement`.
"""

from __future__ import annotations

from airflow_provider_stripe.currencies import (
    MAXIMUM_AMOUNT,
    WHOLE_UNITS_ONLY,
    decimals,
    format_amount,
)
from airflow_provider_stripe.currencies import MINIMUM_CHARGE_AMOUNTS as MINIMUM_CHARGE
from airflow_provider_stripe.currencies import SUPPORTED_CURRENCIES as SUPPORTED
from airflow_provider_stripe.currencies import THREE_DECIMAL_CURRENCIES as THREE_DECIMAL
from airflow_provider_stripe.currencies import ZERO_DECIMAL_CURRENCIES as ZERO_DECIMAL
from airflow_provider_stripe.testing.errors import invalid

__all__ = [
    "MAXIMUM_AMOUNT",
    "MINIMUM_CHARGE",
    "SUPPORTED",
    "THREE_DECIMAL",
    "WHOLE_UNITS_ONLY",
    "ZERO_DECIMAL",
    "check_whole_units",
    "decimals",
    "format_amount",
]


def check_whole_units(amount: int, currency: str) -> None:
    """Stripe's 400 for a fractional ISK charge or refund (support.stripe.com, "Deprecation of
    fractional ISK charges and refunds": amounts divisible by 100 since 2023-04-14)."""
    if currency in WHOLE_UNITS_ONLY and amount % 100:
        raise invalid(
            "amount",
            f"Invalid amount: {currency.upper()} amounts must be in whole units, a multiple of 100 "
            f"in the smallest unit (500 is 5 {currency.upper()}), not {amount}.",
            "invalid_charge_amount_no_decimal_compatible",
        )
