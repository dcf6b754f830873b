"""Currency facts a charge depends on: which codes Stripe takes, their decimals, its minimum amounts.

The one home of these facts: the operators' local checks and the emulator both read them. All
from Stripe's "Supported currencies" page, https://docs.stripe.com/currencies:

- ``#presentment-currencies``: the codes a charge may use. ISO codes Stripe does not take
  (``xts``, ``xau``, ...) and codes that are not currencies at all are refused before anything is
  sent; a currency Stripe adds later needs this list updated.
- ``#zero-decimal``: currencies whose amounts are whole units (``100`` is 100 JPY, not 1.00).
- ``#three-decimal``: amounts in three decimals whose last digit must be ``0`` (card acquirers
  settle them in two), so ``5120`` KWD is accepted and ``5124`` refused.
- ``#special-cases``, and the support page "Deprecation of fractional ISK charges and refunds"
  (https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds): since
  2023-04-14 ISK keeps its two-decimal representation but takes whole krónur only, so its
  amounts are divisible by 100 (``500`` is 5 ISK; ``550`` is refused with
  ``invalid_charge_amount_no_decimal_compatible``), charges and refunds alike.
- ``#minimum-and-maximum-charge-amounts``: the least a charge may be, per *settlement* currency
  (the account's), in any charge currency "or equivalent" (API reference, Charge ``amount``: "$0.50
  US or equivalent in charge currency"). A DAG's parameters name the charge currency only, and the
  equivalent needs the day's exchange rate, so the local check applies the table to the charge's
  own currency: exact when the account settles in it, and the most it can know otherwise (50 JPY
  passes here and is ``amount_too_small`` on a USD account, about $0.33). Currencies the table does
  not list are checked for an amount of at least 1. At most eight digits in the smallest unit
  (``99999999``).
"""

from __future__ import annotations

_CODES = """
    usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn
    bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf
    gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr
    lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen
    pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd
    top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw
"""
SUPPORTED_CURRENCIES = frozenset(_CODES.split())

_ZERO_DECIMAL_CODES = "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf"
ZERO_DECIMAL_CURRENCIES = frozenset(_ZERO_DECIMAL_CODES.split())
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
WHOLE_UNITS_ONLY = frozenset({"isk"})
"""Two-decimal in the API, but only whole units may be charged or refunded: amounts divisible by 100."""

MINIMUM_CHARGE_AMOUNTS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
    "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
"""Stripe's table, in each currency's smallest unit (0.50 USD is 50; 175.00 HUF is 17500)."""

MAXIMUM_AMOUNT = 99_999_999
"""Stripe's ceiling: eight digits in the smallest unit."""

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "$", "aud": "$", "nzd": "$"}


def decimals(currency: str) -> int:
    """How many decimals the smallest unit of ``currency`` (a lower-case code) stands for."""
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    return 3 if currency in THREE_DECIMAL_CURRENCIES else 2


def minimum_charge(currency: str) -> int:
    """The least ``amount`` a charge in ``currency`` may have, as far as can be known locally."""
    return MINIMUM_CHARGE_AMOUNTS.get(currency, 1)


def format_amount(amount: int, currency: str) -> str:
    """``$0.50`` / ``¥50`` / ``5.125``: an amount in the smallest unit, the way Stripe's messages quote it."""
    places = decimals(currency)
    major = f"{amount / 10**places:,.{places}f}" if places else f"{amount:,}"
    return f"{_SYMBOLS.get(currency, '')}{major}"


def charge_amount_problem(amount: int, currency: str) -> str | None:
    """What Stripe would refuse about charging ``amount`` (smallest unit) in ``currency``, or None.

    ``currency`` is a lower-case code Stripe supports.
    """
    minimum = minimum_charge(currency)
    if amount < minimum:
        return (
            f"it must be at least {minimum} ({format_amount(minimum, currency)} {currency.upper()}), "
            f"Stripe's minimum charge for an account settling in {currency.upper()}; an account settling "
            "in another currency needs the equivalent of its own minimum "
            "(https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts)"
        )
    if amount > MAXIMUM_AMOUNT:
        return f"it must be at most {MAXIMUM_AMOUNT} (eight digits in the currency's smallest unit)"
    if currency in THREE_DECIMAL_CURRENCIES and amount % 10:
        return (
            f"{currency.upper()} is a three-decimal currency: its amount must end in 0, e.g. "
            f"{amount - amount % 10} (https://docs.stripe.com/currencies#three-decimal)"
        )
    if currency in WHOLE_UNITS_ONLY and amount % 100:
        return (
            f"{currency.upper()} is charged in whole units only: its amount must be divisible by 100, "
            f"e.g. {amount - amount % 100} "
            "(https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds)"
        )
    return None
