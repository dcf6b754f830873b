"""Stripe facts the emulator follows, each test naming the Stripe document it comes from.

Every scenario runs through the official ``stripe`` SDK (16.1.0) against the emulator: where this
file and Stripe disagree, a user's test would pass locally and fail in production.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import stripe

from airflow_provider_stripe import currencies
from airflow_provider_stripe.testing import StripeEmulator, settlement
from tests.emulator.conftest import charge, error_body, sdk_client

# -- charging a customer ----------------------------------------------------------------------------


def test_a_payment_method_is_not_a_source(client: stripe.StripeClient) -> None:
    """API reference, "Create a charge" (customer: charged through its default source) and the error
    Stripe gives a customer without one: 402 card_error, code missing, param card."""
    customer = client.v1.customers.create(params={"payment_method": "pm_card_visa"})
    assert customer.default_source is None
    with pytest.raises(stripe.CardError) as caught:
        charge(client, customer=customer.id, source=None)
    assert caught.value.http_status == 402
    body = error_body(caught.value)
    assert (body["type"], body["code"], body["param"]) == ("card_error", "missing", "card")
    assert body["message"] == "Cannot charge a customer that has no active card"


def test_a_customer_created_with_a_token_is_charged_through_its_default_source(
    client: stripe.StripeClient,
) -> None:
    """API reference, "Create a customer": source (a token such as tok_visa) becomes the default_source;
    Charge object: payment_intent is null for a charge made with the Charges API."""
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    assert str(customer.default_source).startswith("card_")
    paid = charge(client, customer=customer.id, source=None)
    assert paid.status == "succeeded"
    assert paid.source is not None
    assert paid.source["id"] == customer.default_source
    assert paid.payment_intent is None


# -- expand ---------------------------------------------------------------------------------------


def test_a_charge_has_refunds_only_when_expanded(client: stripe.StripeClient) -> None:
    """Changelog 2022-11-15, "deprecates-charges-auto-expand": Charge.refunds is no longer included
    by default; expand[]=refunds brings it back."""
    paid = charge(client)
    refund = client.v1.refunds.create(params={"charge": paid.id, "amount": 100})
    assert "refunds" not in client.v1.charges.retrieve(paid.id)
    assert "refunds" not in client.v1.charges.list().data[0]
    expanded = client.v1.charges.retrieve(paid.id, params={"expand": ["refunds"]})
    assert [r.id for r in expanded.refunds.data] == [refund.id]
    assert expanded.refunds.url == f"/v1/charges/{paid.id}/refunds"
    listed = client.v1.charges.list(params={"expand": ["data.refunds"]}).data[0]
    assert [r.id for r in listed.refunds.data] == [refund.id]


def test_expanding_ids_into_objects(client: stripe.StripeClient) -> None:
    """API reference, "Expanding responses": an expandable id becomes its object; a.b expands inside
    a; on lists the path starts with data."""
    customer = client.v1.customers.create(params={"source": "tok_visa", "email": "e@example.com"})
    paid = charge(client, customer=customer.id, source=None)
    expanded = client.v1.charges.retrieve(paid.id, params={"expand": ["customer", "balance_transaction"]})
    assert expanded.customer.email == "e@example.com"
    transaction = expanded.balance_transaction
    assert (transaction.object, transaction.id, transaction.amount) == (
        "balance_transaction",
        paid.balance_transaction,
        1000,
    )
    assert transaction.net == 1000 - transaction.fee
    deep = client.v1.charges.retrieve(paid.id, params={"expand": ["customer.default_source"]})
    assert deep.customer.default_source.last4 == "4242"
    refund = client.v1.refunds.create(params={"charge": paid.id, "expand": ["charge"]})
    assert refund.charge.id == paid.id
    assert client.v1.refunds.list(params={"expand": ["data.charge"]}).data[0].charge.amount_refunded == 1000
    assert str(client.v1.charges.retrieve(paid.id).customer) == customer.id  # stored objects keep ids


def test_what_the_sdk_types_as_expandable_can_be_expanded(client: stripe.StripeClient) -> None:
    """stripe-python 16.1.0 types these fields ExpandableField (Refund.customer, Refund.payment_method,
    Charge.TransferData.destination, Customer.InvoiceSettings.default_payment_method); changelog
    2020-08-27 (a customer's sources, subscriptions and tax_ids only when expanded) and the Customer
    object (tax and cash_balance "not included by default") name the others."""
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    paths = [
        "sources",
        "subscriptions",
        "tax_ids",
        "tax",
        "cash_balance",
        "invoice_settings.default_payment_method",
    ]
    expanded = client.v1.customers.retrieve(customer.id, params={"expand": paths})
    assert [card.id for card in expanded.sources.data] == [customer.default_source]
    assert (expanded.subscriptions.data, expanded.tax_ids.data) == ([], [])
    assert expanded.tax.automatic_tax == "unrecognized_location"
    assert expanded.cash_balance.object == "cash_balance"
    assert expanded.invoice_settings.default_payment_method is None
    assert "sources" not in client.v1.customers.retrieve(customer.id)
    paid = charge(client, customer=customer.id, source=None, expand=["transfer_data.destination"])
    assert paid.transfer_data is None
    refund = client.v1.refunds.create(params={"charge": paid.id, "expand": ["customer", "payment_method"]})
    assert refund.customer is None  # a refund of a charge names no customer unless given one
    listed = client.v1.customers.list(params={"expand": ["data.sources", "data.default_source.customer"]})
    assert listed.data[0].default_source.customer.id == customer.id


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("metadata", "This property cannot be expanded (metadata)."),
        ("nonsense", "This property cannot be expanded (nonsense)."),
        ("customer.nonsense", "This property cannot be expanded (customer.nonsense)."),
        (
            "refunds.data.charge.customer.default_source",
            "You cannot expand more than 4 levels of a property.",
        ),
    ],
)
def test_unknown_expand_paths_are_refused(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, path: str, message: str
) -> None:
    """Stripe answers 400 invalid_request_error "This property cannot be expanded (path)." and
    refuses more than four levels (API reference, "Expanding responses"); nothing is created."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, expand=[path])
    assert caught.value.http_status == 400
    assert error_body(caught.value)["message"] == message
    assert stripe_emulator.objects("charge") == []


def test_list_expansions_start_with_data(client: stripe.StripeClient) -> None:
    """API reference, "Expanding responses": on a list, expand data.customer, not customer."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.charges.list(params={"expand": ["customer"]})
    assert error_body(caught.value)["message"] == (
        "This property cannot be expanded (customer). You may want to try expanding 'data.customer' instead."
    )


# -- pagination -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["starting_after", "ending_before"])
def test_a_deleted_object_is_no_pagination_cursor(client: stripe.StripeClient, cursor: str) -> None:
    """API reference, "Pagination" (the cursor is an object ID) and Stripe's answer once that object
    is deleted: 400 invalid_request_error resource_missing "No such customer", param = the cursor
    (stripe-go #1030 shows the body; stripe-php #1264, a Stripe maintainer: paginating from a deleted
    object fails for resources that can be deleted). Deleted customers are not listed either."""
    older = client.v1.customers.create(params={"email": "older@example.com"})
    gone = client.v1.customers.create(params={"email": "gone@example.com"})
    client.v1.customers.delete(gone.id)
    assert [c.id for c in client.v1.customers.list().data] == [older.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list(params={cursor: gone.id})  # type: ignore[misc]
    assert caught.value.http_status == 400
    body = error_body(caught.value)
    assert (body["type"], body["code"], body["param"]) == (
        "invalid_request_error",
        "resource_missing",
        cursor,
    )
    assert body["message"] == f"No such customer: '{gone.id}'"


# -- list filters ---------------------------------------------------------------------------------


def test_products_are_listed_by_type_and_ids(client: stripe.StripeClient) -> None:
    """stripe-python 16.1.0, ProductListParams: type "Only return products of this type"; ids "Only
    return products with the given IDs. Cannot be used with starting_after or ending_before"."""
    good = client.v1.products.create(params={"name": "Mug", "type": "good"})
    service = client.v1.products.create(params={"name": "Repair"})
    assert [p.id for p in client.v1.products.list(params={"type": "good"}).data] == [good.id]
    assert [p.id for p in client.v1.products.list(params={"type": "service"}).data] == [service.id]
    assert [p.id for p in client.v1.products.list(params={"ids": [good.id]}).data] == [good.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.products.list(params={"ids": [good.id], "starting_after": service.id})
    assert (caught.value.http_status, caught.value.param) == (400, "ids")


def test_events_are_listed_by_delivery_success(client: stripe.StripeClient) -> None:
    """stripe-python 16.1.0, EventListParams.delivery_success: "Filter events by whether all webhooks
    were successfully delivered". The emulator has no webhook endpoints: nothing is pending, so every
    event counts as delivered."""
    client.v1.customers.create()
    assert len(client.v1.events.list(params={"delivery_success": True}).data) == 1
    assert client.v1.events.list(params={"delivery_success": False}).data == []


# -- API versions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2022-11-15", "2024-06-20", "2025-03-31.basil", "2026-10-28.endive"])
def test_published_api_versions_are_accepted(stripe_emulator: StripeEmulator, version: str) -> None:
    """API reference, "Versioning": a request may name any published version in Stripe-Version (the
    list: stripe-python 16.1.0's enum for a webhook endpoint's api_version)."""
    client = sdk_client(stripe_emulator)
    client.v1.balance.retrieve(options={"stripe_version": version})
    assert stripe_emulator.requests[-1].status == 200


@pytest.mark.parametrize("version", ["2026-13-45", "2099-01-01", "2024-06-20.basil", "latest"])
def test_unknown_api_versions_are_refused(stripe_emulator: StripeEmulator, version: str) -> None:
    """API reference, "Versioning": an unknown Stripe-Version is a 400 invalid_request_error."""
    client = sdk_client(stripe_emulator)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.balance.retrieve(options={"stripe_version": version})
    assert caught.value.http_status == 400
    assert version in error_body(caught.value)["message"]


# -- parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("create", "params"),
    [
        ("customers", {"business_name": "Acme", "individual_name": "Ada Lovelace"}),
        ("customers", {"tax": {"ip_address": "1.2.3.4"}, "invoice_settings": {"footer": "Thanks"}}),
        ("products", {"name": "Mug", "tax_details": {"tax_code": "txcd_99999999"}}),
        (
            "charges",
            {"amount": 1000, "currency": "usd", "source": "tok_visa", "radar_options": {"session": "rs_1"}},
        ),
    ],
)
def test_what_the_pinned_sdk_accepts_is_accepted(
    client: stripe.StripeClient, create: str, params: dict[str, Any]
) -> None:
    """stripe-python 16.1.0's *CreateParams (generated from Stripe's OpenAPI spec for the pinned API
    version) list these parameters."""
    created = getattr(client.v1, create).create(params=params)
    assert created.id


@pytest.mark.parametrize(
    ("create", "params", "unknown"),
    [
        ("customers", {"nickname": "Ada"}, "nickname"),
        ("customers", {"tax": {"ip_address": "1.2.3.4", "colour": "red"}}, "tax[colour]"),
        ("products", {"name": "Mug", "price": 100}, "price"),
        ("refunds", {"charge": "ch_x", "amount_cents": 1}, "amount_cents"),
    ],
)
def test_unknown_parameters_are_refused(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    create: str,
    params: dict[str, Any],
    unknown: str,
) -> None:
    """Error codes, parameter_unknown: "Received unknown parameter: x", a 400 naming it; nothing made."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        getattr(client.v1, create).create(params=params)
    body = error_body(caught.value)
    assert (body["code"], body["param"]) == ("parameter_unknown", unknown)
    assert body["message"] == f"Received unknown parameter: {unknown}"
    assert stripe_emulator.objects("customer") == stripe_emulator.objects("product") == []


def test_generated_parameter_types_are_checked(client: stripe.StripeClient) -> None:
    """stripe-python 16.1.0: CustomerCreateParams.next_invoice_sequence is an integer, and a
    tax_id_data entry needs its type and value."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"next_invoice_sequence": "soon"})
    assert (caught.value.code, caught.value.param) == ("parameter_invalid_integer", "next_invoice_sequence")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"tax_id_data": [{"type": "eu_vat"}]})
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "tax_id_data[0][value]")


# -- amounts and text -----------------------------------------------------------------------------


MINIMUMS = [("usd", 50), ("eur", 50), ("gbp", 30), ("jpy", 50), ("huf", 17500), ("inr", 50)]


@pytest.mark.parametrize(("currency", "minimum"), MINIMUMS)
def test_the_settlement_currencys_own_minimum(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, currency: str, minimum: int
) -> None:
    """Currencies, "Minimum and maximum charge amounts" (https://docs.stripe.com/currencies): the
    table is per settlement currency; a charge in the account's own currency is held to it exactly."""
    stripe_emulator.settlement_currency = currency
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, amount=minimum - 1, currency=currency)
    assert (caught.value.code, caught.value.param) == ("amount_too_small", "amount")
    assert charge(client, amount=minimum, currency=currency).amount == minimum


@pytest.mark.parametrize(
    ("currency", "refused", "accepted"),
    [("jpy", 50, 75), ("gbp", 30, 40), ("inr", 50, 4200), ("huf", 17500, 18000), ("eur", 45, 46)],
)
def test_a_usd_account_converts_other_currencies_to_its_minimum(
    client: stripe.StripeClient, currency: str, refused: int, accepted: int
) -> None:
    """API reference, Charge amount: "$0.50 US or equivalent in charge currency", and Currencies,
    "Minimum and maximum charge amounts": a charge in another currency must convert to at least the
    settlement currency's minimum. The emulator's account settles in USD and converts at the fixed
    rates of airflow_provider_stripe.testing.settlement (JPY 150, GBP 0.79, INR 84, HUF 360, EUR 0.92
    per USD): 50 JPY is about $0.33, 30 GBP $0.38, 50 INR $0.006."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, amount=refused, currency=currency)
    assert (caught.value.code, caught.value.param) == ("amount_too_small", "amount")
    assert "Amount must convert to at least $0.50 usd" in error_body(caught.value)["message"]
    assert charge(client, amount=accepted, currency=currency).amount == accepted


def test_the_account_shows_its_country_and_settlement_currency(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    """API reference, Account object: country and default_currency (the settlement currency). A GBP
    account holds a USD charge to 0.30 GBP: 0.38 USD passes, 0.37 USD (0.29 GBP) does not."""
    assert (client.v1.accounts.retrieve_current().country, stripe_emulator.settlement_currency) == (
        "US",
        "usd",
    )
    stripe_emulator.country, stripe_emulator.settlement_currency = "GB", "GBP"
    account = client.v1.accounts.retrieve_current()
    assert (account.country, account.default_currency) == ("GB", "gbp")
    assert charge(client, amount=38, currency="usd").amount == 38
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, amount=37, currency="usd")
    assert "Amount must convert to at least £0.30 gbp" in error_body(caught.value)["message"]
    with pytest.raises(ValueError, match="not a settlement currency"):
        stripe_emulator.settlement_currency = "xof"
    stripe_emulator.reset()
    assert (stripe_emulator.country, stripe_emulator.settlement_currency) == ("US", "usd")


def test_every_supported_currency_has_a_fixed_rate() -> None:
    """Currencies, "Presentment currencies": every code a charge may use converts to the settlement
    currency at a documented fixed rate."""
    assert set(settlement.UNITS_PER_USD) == currencies.SUPPORTED_CURRENCIES


def test_three_decimal_amounts_end_in_zero(client: stripe.StripeClient) -> None:
    """Currencies, "Three-decimal currencies": amounts in KWD, BHD, JOD, OMR, TND must end in 0."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, amount=5124, currency="kwd")
    assert caught.value.param == "amount"
    assert charge(client, amount=5120, currency="kwd").amount == 5120


def test_isk_amounts_are_whole_kronur(client: stripe.StripeClient) -> None:
    """support.stripe.com, "Deprecation of fractional ISK charges and refunds": since 2023-04-14 ISK
    charges and refunds must be divisible by 100 (whole krónur in the two-decimal representation),
    else 400 invalid_charge_amount_no_decimal_compatible."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, amount=10_050, currency="isk")
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        400,
        "invalid_charge_amount_no_decimal_compatible",
        "amount",
    )
    paid = charge(client, amount=10_000, currency="isk")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"charge": paid.id, "amount": 150})
    assert refused.value.code == "invalid_charge_amount_no_decimal_compatible"
    assert client.v1.refunds.create(params={"charge": paid.id, "amount": 200}).amount == 200


def test_numeric_metadata_values_are_stored_as_strings(client: stripe.StripeClient) -> None:
    """API reference, "Metadata": keys and values are strings; stripe-python 16.1.0 form-encodes a
    number as its text, and Stripe stores it as that string."""
    customer = client.v1.customers.create(params={"metadata": {"order": 42, "ratio": 1.5}})  # type: ignore[dict-item]
    assert customer.metadata.to_dict() == {"order": "42", "ratio": "1.5"}


@pytest.mark.parametrize("create", ["charges", "products"])
def test_descriptions_up_to_40000_characters(client: stripe.StripeClient, create: str) -> None:
    """Stripe's OpenAPI spec (github.com/stripe/openapi, spec3.json): a charge's and a product's
    description have maxLength 40000."""
    base: dict[str, Any] = (
        {"amount": 1000, "currency": "usd", "source": "tok_visa"} if create == "charges" else {"name": "Mug"}
    )
    made = getattr(client.v1, create).create(params={**base, "description": "d" * 40_000})
    assert len(made.description) == 40_000
    with pytest.raises(stripe.InvalidRequestError) as caught:
        getattr(client.v1, create).create(params={**base, "description": "d" * 40_001})
    assert caught.value.param == "description"


def test_product_names_up_to_250_characters(client: stripe.StripeClient) -> None:
    """Changelog 2018-10-31: product names are limited to 250 characters."""
    assert client.v1.products.create(params={"name": "n" * 250}).name == "n" * 250
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.products.create(params={"name": "n" * 251})
    assert caught.value.param == "name"


@pytest.mark.parametrize(
    ("descriptor", "accepted"),
    [("ACME SHOP", True), ("A" * 22, True), ("A" * 23, False), ("1234567", False), ("ACME <3", False),
     ("ACME*SHOP", False), ('ACME "SHOP"', False), ("ACME'S", False), ("AC\\ME", False), ("ACME", False)],
)  # fmt: skip
def test_product_statement_descriptors(client: stripe.StripeClient, descriptor: str, accepted: bool) -> None:
    """Statement descriptors, "Requirements" (https://docs.stripe.com/get-started/account/statement-descriptors):
    5-22 characters for a complete descriptor, at least one letter, none of < > \\ ' " *."""
    params = {"name": "Mug", "statement_descriptor": descriptor}
    if accepted:
        assert client.v1.products.create(params=params).statement_descriptor == descriptor
    else:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.products.create(params=params)
        assert caught.value.param == "statement_descriptor"


def test_charge_descriptor_suffix(client: stripe.StripeClient) -> None:
    """Statement descriptors, "Dynamic suffix": a suffix may be short but keeps the letter and
    character rules."""
    assert charge(client, statement_descriptor_suffix="R1").statement_descriptor_suffix == "R1"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(client, statement_descriptor_suffix="1234")
    assert caught.value.param == "statement_descriptor_suffix"


@pytest.mark.parametrize(
    ("prefix", "accepted"),
    [("A", True), ("ACME2026", True), ("A" * 12, True), ("A" * 13, False), ("acme", False),
     ("AC-ME", False), ("ACME 1", False), ("ÄCME", False)],
)  # fmt: skip
def test_invoice_prefix_is_uppercase_letters_or_numbers(
    client: stripe.StripeClient, prefix: str, accepted: bool
) -> None:
    """stripe-python 16.1.0, CustomerCreateParams.invoice_prefix (the pinned API version's parameter
    docs): "Must be 1-12 uppercase letters or numbers"."""
    if accepted:
        assert client.v1.customers.create(params={"invoice_prefix": prefix}).invoice_prefix == prefix
    else:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.customers.create(params={"invoice_prefix": prefix})
        assert (caught.value.http_status, caught.value.param) == (400, "invoice_prefix")


def test_customer_email_up_to_512_characters(client: stripe.StripeClient) -> None:
    """stripe-python 16.1.0, CustomerCreateParams.email: "This may be up to 512 characters"."""
    longest = "a" * 500 + "@example.com"
    assert client.v1.customers.create(params={"email": longest}).email == longest
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"email": "a" + longest})
    assert caught.value.param == "email"


def test_marketing_feature_names_up_to_80_characters(client: stripe.StripeClient) -> None:
    """stripe-python 16.1.0, ProductCreateParamsMarketingFeature.name: "Up to 80 characters long"."""
    product = client.v1.products.create(params={"name": "Mug", "marketing_features": [{"name": "f" * 80}]})
    assert [feature.name for feature in product.marketing_features] == ["f" * 80]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.products.create(params={"name": "Mug", "marketing_features": [{"name": "f" * 81}]})
    assert caught.value.param == "marketing_features[0][name]"


@pytest.mark.parametrize(
    ("params", "calculated"),
    [({}, "STRIPE EMULATOR"), ({"statement_descriptor_suffix": "ORDER 42"}, "EMULATOR* ORDER 42"),
     ({"statement_descriptor": "ORDER 42"}, "EMULATOR* ORDER 42"),
     ({"statement_descriptor": "IGNORED", "statement_descriptor_suffix": "R1"}, "EMULATOR* R1"),
     ({"statement_descriptor_suffix": "A VERY LONG SUFFIX"}, "EMULATOR* A VERY LONG ")],
)  # fmt: skip
def test_calculated_statement_descriptor(
    client: stripe.StripeClient, params: dict[str, Any], calculated: str
) -> None:
    """Statement descriptors (https://docs.stripe.com/get-started/account/statement-descriptors): a
    card charge shows the account's static descriptor, or its shortened descriptor (prefix), "* " and
    the dynamic suffix, 22 characters in all; Charge.calculated_statement_descriptor is that text.
    The account's settings name the descriptor and prefix (Account object, settings.payments and
    settings.card_payments)."""
    settings = client.v1.accounts.retrieve_current().settings
    assert settings is not None
    assert settings.card_payments.statement_descriptor_prefix == "EMULATOR"
    assert charge(client, **params).calculated_statement_descriptor == calculated


def test_only_a_customers_own_phone_is_limited_to_20_characters(client: stripe.StripeClient) -> None:
    """API reference, "Create a customer": phone is at most 20 characters; shipping.phone has no
    such limit."""
    long_phone = "+44 20 7946 0000 ext. 12345"
    shipped = client.v1.customers.create(
        params={"shipping": {"name": "Ada", "address": {"line1": "1 Main St"}, "phone": long_phone}}
    )
    assert shipped.shipping is not None
    assert shipped.shipping.phone == long_phone
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"phone": long_phone})
    assert caught.value.param == "phone"


# -- nested fields -------------------------------------------------------------------------------


def test_nested_fields_are_the_sdks(client: stripe.StripeClient) -> None:
    """stripe-python 16.1.0's types: Card has regulated_status and no wallet;
    Charge.PaymentMethodDetails.Card has transaction_link_id; Refund.DestinationDetails.Card has
    reference; BalanceTransaction has balance_type (the balance it affects: payments, here)."""
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    card = client.v1.customers.retrieve(customer.id, params={"expand": ["default_source"]}).default_source
    assert "wallet" not in card
    assert card["regulated_status"] == "unregulated"
    paid = charge(client, customer=customer.id, source=None, expand=["balance_transaction"])
    assert paid.payment_method_details is not None
    assert "transaction_link_id" in paid.payment_method_details.card
    assert paid.balance_transaction.balance_type == "payments"
    refund = client.v1.refunds.create(params={"charge": paid.id})
    assert refund.destination_details is not None
    assert refund.destination_details.card.reference is None


# -- idempotency and errors -----------------------------------------------------------------------


def test_a_concurrent_request_with_the_same_key_is_a_409(stripe_emulator: StripeEmulator) -> None:
    """Idempotent requests / error codes, idempotency_key_in_use: while a request with a key is
    executing, another with the same key gets 409 idempotency_error; later ones replay the result."""
    stripe_emulator.processing_time = 0.5
    outcomes: list[Any] = []

    def create() -> None:
        try:
            outcomes.append(
                sdk_client(stripe_emulator).v1.customers.create(options={"idempotency_key": "twice"})
            )
        except stripe.StripeError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # stripe-python raises IdempotencyError for a 400/404 only; a 409 is an APIError it would retry.
    conflicts = [o for o in outcomes if isinstance(o, stripe.APIError)]
    created = [o for o in outcomes if isinstance(o, stripe.Customer)]
    assert (len(conflicts), len(created)) == (1, 1)
    assert conflicts[0].http_status == 409
    conflict = error_body(conflicts[0])
    assert (conflict["type"], conflict["code"]) == ("idempotency_error", "idempotency_key_in_use")
    stripe_emulator.processing_time = 0
    again = sdk_client(stripe_emulator).v1.customers.create(options={"idempotency_key": "twice"})
    assert again.id == created[0].id
    assert len(stripe_emulator.objects("customer")) == 1


def test_an_endpoints_own_error_is_saved_and_replayed(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    """Idempotent requests: results are saved once an endpoint began executing, 4xx errors included;
    a request refused by parameter validation saves nothing."""
    paid = charge(client, amount=1000)
    options: Any = {"idempotency_key": "too-much"}
    with pytest.raises(stripe.InvalidRequestError) as first:
        client.v1.refunds.create(params={"charge": paid.id, "amount": 2000}, options=options)
    with pytest.raises(stripe.InvalidRequestError) as second:
        client.v1.refunds.create(params={"charge": paid.id, "amount": 2000}, options=options)
    assert second.value.headers is not None
    assert second.value.headers["Idempotent-Replayed"] == "true"
    assert error_body(second.value) == error_body(first.value)


def test_error_bodies_carry_request_log_url_and_declines_their_param(client: stripe.StripeClient) -> None:
    """Error object (API reference, "Errors"): request_log_url links the request in the Dashboard;
    param names the card field a decline is about."""
    with pytest.raises(stripe.CardError) as caught:
        charge(client, source="tok_chargeDeclinedIncorrectCvc")
    body = error_body(caught.value)
    assert body["request_log_url"].startswith("https://dashboard.stripe.com/test/logs/req_")
    assert (body["code"], body["param"]) == ("incorrect_cvc", "cvc")


def test_424_is_an_api_error(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    """Error codes, HTTP status 424: "External Dependency Failed", a failure outside Stripe."""
    stripe_emulator.fail_next(1, status=424)
    with pytest.raises(stripe.APIError) as caught:
        client.v1.balance.retrieve()
    assert caught.value.http_status == 424


# -- test cards -----------------------------------------------------------------------------------

CARDS = [
    ("visa", "Visa", "visa", "4242", "credit"),
    ("visa_debit", "Visa", "visa", "5556", "debit"),
    ("mastercard", "MasterCard", "mastercard", "4444", "credit"),
    ("mastercard_debit", "MasterCard", "mastercard", "8210", "debit"),
    ("amex", "American Express", "amex", "0005", "credit"),
    ("discover", "Discover", "discover", "1117", "credit"),
    ("diners", "Diners Club", "diners", "0004", "credit"),
    ("jcb", "JCB", "jcb", "0505", "credit"),
    ("unionpay", "UnionPay", "unionpay", "0005", "credit"),
]


@pytest.mark.parametrize("form", ["tok_", "pm_card_"])
@pytest.mark.parametrize(("name", "brand", "network", "last4", "funding"), CARDS)
def test_cards_by_brand(
    client: stripe.StripeClient, form: str, name: str, brand: str, network: str, last4: str, funding: str
) -> None:
    """Testing, "Cards by brand" (https://docs.stripe.com/testing#cards): brand, last4, funding."""
    paid = charge(client, source=form + name)
    card = paid.payment_method_details.card
    assert (card.brand, card.last4, card.funding) == (network, last4, funding)
    if form == "tok_":
        assert (paid.source["brand"], paid.source["last4"]) == (brand, last4)


DECLINES = [
    ("chargeDeclined", "card_declined", "generic_decline", "0002"),
    ("chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds", "9995"),
    ("chargeDeclinedLostCard", "card_declined", "lost_card", "9987"),
    ("chargeDeclinedStolenCard", "card_declined", "stolen_card", "9979"),
    ("chargeDeclinedExpiredCard", "expired_card", "expired_card", "0069"),
    ("chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc", "0127"),
    ("chargeDeclinedProcessingError", "processing_error", "processing_error", "0119"),
]


@pytest.mark.parametrize("form", ["tok_", "pm_card_"])
@pytest.mark.parametrize(("name", "code", "decline_code", "last4"), DECLINES)
def test_declined_payments(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    form: str,
    name: str,
    code: str,
    decline_code: str,
    last4: str,
) -> None:
    """Testing, "Declined payments" (https://docs.stripe.com/testing#declined-payments): a 402
    card_error with the documented code and decline_code; the failed charge is kept."""
    with pytest.raises(stripe.CardError) as caught:
        charge(client, source=form + name)
    body = error_body(caught.value)
    assert (body["code"], body.get("decline_code")) == (code, decline_code)
    (failed,) = stripe_emulator.objects("charge")
    assert (failed["id"], failed["status"]) == (body["charge"], "failed")
    assert failed["payment_method_details"]["card"]["last4"] == last4


def test_elevated_risk(client: stripe.StripeClient) -> None:
    """Testing, "Fraud prevention": 4000000000009235 (tok_riskLevelElevated) succeeds with
    outcome.risk_level elevated."""
    paid = charge(client, source="tok_riskLevelElevated")
    assert paid.status == "succeeded"
    assert paid.outcome is not None
    assert paid.outcome.risk_level == "elevated"
