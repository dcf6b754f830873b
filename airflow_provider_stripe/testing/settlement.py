"""The emulated account's settlement currency, and the minimum charge Stripe derives from it.

Stripe's minimum charge is per *settlement* currency (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts;
API reference, Charge ``amount``: "$0.50 US or equivalent in charge currency"). A charge in another
currency is converted at the day's rate and must come to at least the settlement currency's
minimum: on a USD account 50 JPY (about $0.33), 30 GBP (about $0.38) and 50 INR (about $0.006) are
all ``amount_too_small``.

The emulator cannot know the day's rate, so it converts at the fixed rates of :data:`UNITS_PER_USD`:
approximate, rounded mid-market rates (units of each currency per US dollar), fixed so that a
test's answer never depends on the market. An amount within a few percent of the converted minimum
may be answered differently by Stripe, whose rate moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from airflow_provider_stripe.testing import currencies
from airflow_provider_stripe.testing.errors import StripeAPIError, invalid


@dataclass(frozen=True)
class AccountSettings:
    """The emulated account's settings that Stripe's rules depend on.

    :param country: the account's country (ISO 3166-1 alpha-2), as ``GET /v1/account`` shows it.
    :param settlement_currency: the currency it settles in (its ``default_currency``): its minimum
        charge applies to every charge currency.
    """

    country: str = "US"
    settlement_currency: str = "usd"


UNITS_PER_USD: dict[str, str] = {
    "usd": "1", "aed": "3.6725", "afn": "70", "all": "92", "amd": "390", "ang": "1.79", "aoa": "910",
    "ars": "1000", "aud": "1.55", "awg": "1.79", "azn": "1.7", "bam": "1.8", "bbd": "2", "bdt": "120",
    "bgn": "1.8", "bhd": "0.376", "bif": "2900", "bmd": "1", "bnd": "1.35", "bob": "6.91", "brl": "5.5",
    "bsd": "1", "bwp": "13.5", "byn": "3.27", "bzd": "2", "cad": "1.38", "cdf": "2850", "chf": "0.88",
    "clp": "950", "cny": "7.2", "cop": "4100", "crc": "510", "cve": "101", "czk": "23", "djf": "178",
    "dkk": "6.9", "dop": "60", "dzd": "135", "egp": "49", "etb": "120", "eur": "0.92", "fjd": "2.25",
    "fkp": "0.79", "gbp": "0.79", "gel": "2.7", "gip": "0.79", "gmd": "70", "gnf": "8600", "gtq": "7.75",
    "gyd": "209", "hkd": "7.8", "hnl": "25", "htg": "132", "huf": "360", "idr": "15800", "ils": "3.7",
    "inr": "84", "isk": "138", "jmd": "157", "jod": "0.709", "jpy": "150", "kes": "129", "kgs": "86",
    "khr": "4050", "kmf": "450", "krw": "1350", "kwd": "0.307", "kyd": "0.833", "kzt": "480",
    "lak": "21900", "lbp": "89500", "lkr": "300", "lrd": "190", "lsl": "18", "mad": "10", "mdl": "17.7",
    "mga": "4600", "mkd": "56.5", "mmk": "2100", "mnt": "3400", "mop": "8", "mur": "46", "mvr": "15.4",
    "mwk": "1730", "mxn": "18", "myr": "4.5", "mzn": "63.9", "nad": "18", "ngn": "1600", "nio": "36.8",
    "nok": "10.8", "npr": "134", "nzd": "1.65", "omr": "0.385", "pab": "1", "pen": "3.75", "pgk": "3.9",
    "php": "57", "pkr": "278", "pln": "4", "pyg": "7800", "qar": "3.64", "ron": "4.6", "rsd": "108",
    "rub": "90", "rwf": "1350", "sar": "3.75", "sbd": "8.4", "scr": "13.8", "sek": "10.5", "sgd": "1.34",
    "shp": "0.79", "sle": "22.5", "sos": "571", "srd": "35", "std": "22500", "szl": "18", "thb": "34",
    "tjs": "10.6", "tnd": "3.1", "top": "2.35", "try": "34", "ttd": "6.8", "twd": "32", "tzs": "2700",
    "uah": "41", "ugx": "3700", "uyu": "41", "uzs": "12800", "vnd": "25000", "vuv": "119", "wst": "2.7",
    "xaf": "600", "xcd": "2.7", "xof": "600", "xpf": "110", "yer": "250", "zar": "18", "zmw": "27",
}  # fmt: skip
"""Fixed rates, units of each supported currency per US dollar (rounded mid-market, not today's)."""


def check_settlement_currency(currency: str) -> str:
    """``currency`` (any case) if Stripe settles in it (it has a minimum in Stripe's table), lower-cased."""
    code = currency.lower()
    if code not in currencies.MINIMUM_CHARGE:
        raise ValueError(
            f"{currency!r} is not a settlement currency; Stripe's minimum-charge table lists "
            + ", ".join(sorted(currencies.MINIMUM_CHARGE))
        )
    return code


def _major(amount: int, currency: str) -> Fraction:
    return Fraction(amount, 10 ** currencies.decimals(currency))


def converted(amount: int, currency: str, settlement: str) -> Fraction:
    """``amount`` (smallest unit of ``currency``) in major units of ``settlement``, at the fixed rates."""
    in_usd = _major(amount, currency) / Fraction(UNITS_PER_USD[currency])
    return in_usd * Fraction(UNITS_PER_USD[settlement])


def check_minimum(amount: int, currency: str, settlement: str) -> None:
    """Stripe's ``amount_too_small`` for a charge below the settlement currency's minimum.

    :param amount: the charge's amount in the smallest unit of ``currency`` (its charge currency).
    :param settlement: the account's settlement currency.
    """
    minimum = currencies.MINIMUM_CHARGE[settlement]
    if currency == settlement:
        if amount < minimum:
            raise _too_small(f"Amount must be at least {_quote(minimum, settlement)}")
        return
    equivalent = converted(amount, currency, settlement)
    if equivalent < _major(minimum, settlement):
        approximately = round(equivalent * 10 ** currencies.decimals(settlement))
        raise _too_small(
            f"Amount must convert to at least {_quote(minimum, settlement)}. "
            f"{_quote(amount, currency)} converts to approximately {_quote(approximately, settlement)}."
        )


def _quote(amount: int, currency: str) -> str:
    return f"{currencies.format_amount(amount, currency)} {currency}"


def _too_small(message: str) -> StripeAPIError:
    return invalid("amount", message, "amount_too_small")
