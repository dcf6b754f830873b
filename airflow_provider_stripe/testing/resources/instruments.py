"""Turning a test source (``tok_visa``, ``pm_card_visa``, ``card_...``) into something chargeable.

Shared by customers (``source`` / ``payment_method`` attach a card) and charges (``source`` pays once).
"""

from __future__ import annotations

from airflow_provider_stripe.testing.cards import Decline, KnownCard, card_object, known_card
from airflow_provider_stripe.testing.endpoint import ApiContext
from airflow_provider_stripe.testing.errors import StripeAPIError, resource_missing
from airflow_provider_stripe.testing.ids import new_id
from airflow_provider_stripe.testing.store import Instrument, Record


def declined(decline: Decline, charge_id: str | None = None) -> StripeAPIError:
    """Stripe's 402 ``card_error``; a declined charge's id rides along in ``error.charge``."""
    return StripeAPIError(
        402,
        decline.message,
        type="card_error",
        code=decline.code,
        decline_code=decline.decline_code,
        param=decline.param,
        extra={"charge": charge_id} if charge_id else None,
    )


def _card_for(source: str, param: str) -> KnownCard:
    card = known_card(source)
    if card is None:
        noun = "PaymentMethod" if source.startswith("pm_") else "token"
        raise resource_missing(noun, source, param=param)
    return card


def new_instrument(ctx: ApiContext, source: str, *, customer: str | None, param: str) -> Instrument:
    """A new card (from ``tok_...``) or PaymentMethod (from ``pm_card_...``), attached to ``customer``.

    Attaching verifies the card, so most declining test cards already fail here.
    """
    card = _card_for(source, param)
    if customer is not None and card.decline is not None and card.decline.on_attach:
        raise declined(card.decline)
    if source.startswith("pm_"):
        instrument = Instrument(new_id("pm"), card, customer)
    else:
        card_id = new_id("card")
        instrument = Instrument(card_id, card, customer, card_object(card_id, card, customer))
    if customer is not None:
        ctx.ledger.instruments[instrument.id] = instrument
        ctx.ledger.attached.setdefault(customer, []).append(instrument)
    return instrument


def customer_instrument(ctx: ApiContext, customer_record: Record, source: str | None) -> Instrument | None:
    """The instrument a charge on the customer uses: ``source`` if it is theirs, else their default."""
    customer = customer_record.id
    if source is not None:
        instrument = ctx.ledger.instruments.get(source)
        if instrument is None or instrument.customer != customer:
            raise StripeAPIError(
                400,
                f"Customer {customer} does not have a linked source with ID {source}.",
                code="missing",
                param="source",
            )
        return instrument
    default_source = customer_record.obj["default_source"]
    # A PaymentMethod attached with ``payment_method`` is not a source: Charges never use it.
    return ctx.ledger.instruments[default_source] if default_source else None


def detach_all(ctx: ApiContext, customer: str) -> None:
    """Deleting a customer deletes their cards and detaches their PaymentMethods."""
    for instrument in ctx.ledger.attached.pop(customer, []):
        del ctx.ledger.instruments[instrument.id]
