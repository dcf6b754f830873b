"""Currency facts charges depend on: which codes exist, their decimals, Stripe's minimum amounts.

Amounts are integers in the currency's smallest unit: cents for USD, whole yen for the zero-decimal
JPY. Minimums are Stripe's published per-currency minimum charge amounts; for a currency without a
published minimum the emulator only requires a positive amount (Stripe converts to 0.50 USD there).
"""

from __future__ import annotations

from airflow_provider_stripe.currencies import SUPPORTED_CURRENCIES

# One list for the provider's own check and the emulator (Stripe's presentment currencies).
SUPPORTED = SUPPORTED_CURRENCIES

_ZERO_DECIMAL_CODES = "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf"
ZERO_DECIMAL = frozenset(_ZERO_DECIMAL_CODES.split())
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
    "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip

MAXIMUM_AMOUNT = 99_999_999
"""Stripe's ceiling: eight digits in the smallest unit."""

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "$", "aud": "$", "nzd": "$"}


def decimals(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency, 1)


def format_amount(amount: int, currency: str) -> str:
    """``$0.50`` / ``¥50``, the way Stripe's messages quote amounts."""
    places = decimals(currency)
    major = f"{amount / 10**places:,.{places}f}" if places else f"{amount:,}"
    return f"{_SYMBOLS.get(currency, '')}{major}"
