"""Stripe's test payment sources: the tokens and PaymentMethod ids that succeed or decline.

A charge or customer names one of these (``tok_visa``, ``pm_card_visa``, ``tok_chargeDeclined``...);
the table says which card it stands for and how Stripe answers when it is used. Each use makes a new
card (``card_...``) or PaymentMethod (``pm_...``) object, as on Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str
    param: str | None = None
    """The card field at fault (``cvc``, ``exp_month``), when there is one."""
    on_attach: bool = True
    """Stripe verifies a card when it is attached to a customer; most declining cards fail there already."""


@dataclass(frozen=True)
class KnownCard:
    brand: str
    """As on a card object: ``Visa``, ``MasterCard``, ``American Express``."""
    network: str
    """As in ``payment_method_details.card.brand``: ``visa``, ``mastercard``, ``amex``."""
    last4: str
    fingerprint: str
    funding: str = "credit"
    decline: Decline | None = None
    risk_level: str = "normal"


_GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")


def _declined(last4: str, fingerprint: str, decline: Decline) -> KnownCard:
    return KnownCard("Visa", "visa", last4, fingerprint, decline=decline)


# https://docs.stripe.com/testing: "Cards by brand" and "Declined payments" (tok_<name> / pm_card_<name>).
_CARDS = {
    "visa": KnownCard("Visa", "visa", "4242", "Xt5EWLLDS7FJjR1c"),
    "visa_debit": KnownCard("Visa", "visa", "5556", "Ffq8FNcgKbMwtc6b", funding="debit"),
    "mastercard": KnownCard("MasterCard", "mastercard", "4444", "S7OECRDsWUJkNO4a"),
    "mastercard_debit": KnownCard("MasterCard", "mastercard", "8210", "gq1Qw6bVsJ0pNsZr", funding="debit"),
    "amex": KnownCard("American Express", "amex", "0005", "y9i1Hvcx3fVBKXxq"),
    "discover": KnownCard("Discover", "discover", "1117", "uV9N8xVQXpPxWXfS"),
    "diners": KnownCard("Diners Club", "diners", "0004", "k4rCd2DuYQ7WJSwM"),
    "jcb": KnownCard("JCB", "jcb", "0505", "oFzS9Zb1oTSPRrKq"),
    "unionpay": KnownCard("UnionPay", "unionpay", "0005", "Vt0MGmVEtA0NbXyL"),
    "chargeDeclined": _declined("0002", "MmGXLeBQqAyzYTbQ", _GENERIC),
    "chargeDeclinedInsufficientFunds": _declined(
        "9995", "jrTsPs1iSS1ouEEk",
        Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ),
    "chargeDeclinedLostCard": _declined(
        "9987", "Dy4vKpQbX2mTzw8a", Decline("card_declined", "lost_card", "Your card was declined.")
    ),
    "chargeDeclinedStolenCard": _declined(
        "9979", "Zc7wHnRkU0sLgq3e", Decline("card_declined", "stolen_card", "Your card was declined.")
    ),
    "chargeDeclinedFraudulent": _declined(
        "0019", "Hb6Mb7lqs6oV8rst", Decline("card_declined", "fraudulent", "Your card was declined.")
    ),
    "chargeDeclinedExpiredCard": _declined(
        "0069", "kVtbSEZBpW4vSXCz",
        Decline("expired_card", "expired_card", "Your card has expired.", param="exp_month"),
    ),
    "chargeDeclinedIncorrectCvc": _declined(
        "0127", "uoBnuVVPnBqxrSKn",
        Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", param="cvc"),
    ),
    "chargeDeclinedProcessingError": _declined(
        "0119", "QSWpEIlbsEGQfzvx",
        Decline(
            "processing_error", "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
    ),
    # Attaches to a customer fine, then every charge on it declines.
    "chargeCustomerFail": _declined(
        "0341", "a2XHRzIrrMRx2OaL",
        Decline("card_declined", "generic_decline", "Your card was declined.", on_attach=False),
    ),
    # Succeeds, with Radar's outcome.risk_level "elevated".
    "riskLevelElevated": KnownCard("Visa", "visa", "9235", "R6sVqkP0ZtN3mHxd", risk_level="elevated"),
}  # fmt: skip

EXP_MONTH = 12
EXP_YEAR = 2034
REGULATED_STATUS = "unregulated"
"""Whether the issuer is under the US Durbin amendment's fee cap; the test cards are not."""


def known_card(source: str) -> KnownCard | None:
    """The card behind ``tok_<name>`` or ``pm_card_<name>``, or None for anything else."""
    for prefix in ("tok_", "pm_card_"):
        if source.startswith(prefix):
            return _CARDS.get(source[len(prefix) :])
    return None


def card_object(card_id: str, card: KnownCard, customer: str | None) -> dict[str, Any]:
    """A ``card`` source object, shaped like Stripe's."""
    return {
        "id": card_id,
        "object": "card",
        "address_city": None,
        "address_country": None,
        "address_line1": None,
        "address_line1_check": None,
        "address_line2": None,
        "address_state": None,
        "address_zip": None,
        "address_zip_check": None,
        "brand": card.brand,
        "country": "US",
        "customer": customer,
        "cvc_check": "pass",
        "dynamic_last4": None,
        "exp_month": EXP_MONTH,
        "exp_year": EXP_YEAR,
        "fingerprint": card.fingerprint,
        "funding": card.funding,
        "last4": card.last4,
        "metadata": {},
        "name": None,
        "regulated_status": REGULATED_STATUS,
        "tokenization_method": None,
    }


def payment_method_details(card: KnownCard, amount: int, declined: bool) -> dict[str, Any]:
    """``charge.payment_method_details`` for a card payment."""
    return {
        "card": {
            "amount_authorized": None if declined else amount,
            "authorization_code": None,
            "brand": card.network,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US",
            "exp_month": EXP_MONTH,
            "exp_year": EXP_YEAR,
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card.fingerprint,
            "funding": card.funding,
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card.last4,
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card.network,
            "network_token": {"used": False},
            "network_transaction_id": None,
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": REGULATED_STATUS,
            "three_d_secure": None,
            "transaction_link_id": None,
            "wallet": None,
        },
        "type": "card",
    }
