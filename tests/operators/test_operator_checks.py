"""Every input rule of the operators: a bad value fails naming its field, and nothing reaches Stripe.

Each rule is checked twice: with the value written literally in the DAG file (refused when the
DAG is parsed) and with the value as a template rendered it (refused by ``execute()``, before any
request). Both raise ``StripeValidationError``, an ``AirflowFailException``: no task retries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_stripe.currencies import MINIMUM_CHARGE_AMOUNTS
from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.operators.stripe import (
    StripeBaseOperator,
    StripeCreateChargeOperator,
    StripeCreateCustomerOperator,
    StripeCreateOperator,
    StripeCreateProductOperator,
    StripeCreateRefundOperator,
    StripeFindCustomerOperator,
)
from airflow_provider_stripe.testing import StripeEmulator
from tests.operators.conftest import task_context

Charge = StripeCreateChargeOperator
Customer = StripeCreateCustomerOperator
Find = StripeFindCustomerOperator
Product = StripeCreateProductOperator
Refund = StripeCreateRefundOperator

VALID: dict[type[StripeBaseOperator], dict[str, Any]] = {
    Charge: {"amount": 2000, "currency": "usd", "source": "tok_visa"},
    Customer: {"email": "ada@example.com"},
    Find: {"customer_id": "cus_NffrFeUfNV2Hib"},
    Product: {"name": "Mug"},
    Refund: {"charge": "ch_3MmlLrLkdIwHu7ix0snN0B15"},
}

ADDRESS = {"line1": "1 Main St", "city": "London", "country": "GB"}
LONG_KEY = "k" * 41


def refusals(operator: type[StripeCreateOperator], field: str, values: dict[str, Any]) -> list[Any]:
    """One case per value of ``field``, each refused naming it (ids: ``charge-statement-descriptor-long``)."""
    prefix = f"{operator.resource.object_type}-{field.replace('_', '-')}"
    return [
        pytest.param(operator, {field: value}, field, id=f"{prefix}-{name}") for name, value in values.items()
    ]


CASES = [
    # Charge: amount is a positive whole number of the smallest unit, at most 8 digits.
    pytest.param(Charge, {"amount": None}, "amount", id="charge-amount-missing"),
    pytest.param(Charge, {"amount": 1.00}, "amount", id="charge-amount-float"),
    pytest.param(Charge, {"amount": "1.5"}, "amount", id="charge-amount-decimal-string"),
    pytest.param(Charge, {"amount": "12abc"}, "amount", id="charge-amount-not-a-number"),
    pytest.param(Charge, {"amount": 0}, "amount", id="charge-amount-zero"),
    pytest.param(Charge, {"amount": -100}, "amount", id="charge-amount-negative"),
    pytest.param(Charge, {"amount": "-100"}, "amount", id="charge-amount-negative-string"),
    pytest.param(Charge, {"amount": True}, "amount", id="charge-amount-boolean"),
    pytest.param(Charge, {"amount": 123_456_789}, "amount", id="charge-amount-nine-digits"),
    # Charge: currency is a 3-letter ISO code.
    pytest.param(Charge, {"currency": None}, "currency", id="charge-currency-missing"),
    pytest.param(Charge, {"currency": "us"}, "currency", id="charge-currency-short"),
    pytest.param(Charge, {"currency": "dollars"}, "currency", id="charge-currency-long"),
    pytest.param(Charge, {"currency": "u$d"}, "currency", id="charge-currency-symbol"),
    # Charge: source or customer; a saved card / bank account needs its customer.
    pytest.param(Charge, {"source": None}, "source", id="charge-no-source-nor-customer"),
    pytest.param(Charge, {"customer": "ada@example.com"}, "customer", id="charge-customer-not-an-id"),
    pytest.param(
        Charge, {"source": "card_1MvoiELkdIwHu7ixOeFGbN9D"}, "customer", id="charge-card-without-customer"
    ),
    pytest.param(
        Charge, {"source": "ba_1MvoiELkdIwHu7ixOeFGbN9D"}, "customer", id="charge-bank-without-customer"
    ),
    # Charge: shipping needs name and address (with line1) once any of it is given.
    pytest.param(Charge, {"shipping": {"phone": "+1 555"}}, "shipping.name", id="charge-shipping-no-name"),
    pytest.param(Charge, {"shipping": {"name": "Ada"}}, "shipping.address", id="charge-shipping-no-address"),
    pytest.param(
        Charge,
        {"shipping": {"name": "Ada", "address": ADDRESS, "zip": "1"}},
        "shipping.zip",
        id="charge-shipping-unknown-field",
    ),
    pytest.param(Charge, {"shipping": "Ada, 1 Main St"}, "shipping", id="charge-shipping-not-a-dict"),
    pytest.param(Charge, {"capture": "later"}, "capture", id="charge-capture-not-boolean"),
    pytest.param(Charge, {"receipt_email": "ada"}, "receipt_email", id="charge-receipt-email"),
    # A customer's email: up to 512 characters (stripe-python 16.1.0, CustomerCreateParams.email).
    pytest.param(Customer, {"email": "a" * 501 + "@example.com"}, "email", id="customer-email-513"),
    # Descriptions: maxLength 40000 in Stripe's OpenAPI spec, charges and products alike.
    pytest.param(Charge, {"description": "d" * 40_001}, "description", id="charge-description-40001"),
    pytest.param(Product, {"description": "d" * 40_001}, "description", id="product-description-40001"),
    # Charge: Stripe's minimum charge per currency, and three-decimal amounts ending in 0
    # (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts, #three-decimal).
    pytest.param(Charge, {"amount": 49}, "amount", id="charge-below-usd-minimum"),
    pytest.param(Charge, {"amount": "49"}, "amount", id="charge-below-minimum-as-string"),
    pytest.param(Charge, {"amount": 29, "currency": "gbp"}, "amount", id="charge-below-gbp-minimum"),
    pytest.param(Charge, {"amount": 49, "currency": "JPY"}, "amount", id="charge-below-jpy-minimum"),
    pytest.param(Charge, {"amount": 17_499, "currency": "huf"}, "amount", id="charge-below-huf-minimum"),
    pytest.param(Charge, {"amount": 5_125, "currency": "kwd"}, "amount", id="charge-kwd-not-ending-in-0"),
    pytest.param(Charge, {"amount": 1_001, "currency": "bhd"}, "amount", id="charge-bhd-not-ending-in-0"),
    # ISK in whole krónur only since 2023-04-14 (support.stripe.com, "Deprecation of fractional ISK
    # charges and refunds"): amounts divisible by 100.
    pytest.param(Charge, {"amount": 10_050, "currency": "isk"}, "amount", id="charge-isk-fraction"),
    # Statement descriptors (https://docs.stripe.com/get-started/account/statement-descriptors):
    # at most 22 characters, at least one letter, none of < > \ ' " *.
    *refusals(
        Charge,
        "statement_descriptor",
        {
            "long": "X" * 23,
            "no-letter": "2024-10-01",
            "quote": "Ada's Mugs",
            "dquote": 'The "Mug" Co',
            "angle": "<b>MUGS</b>",
            "backslash": "MUGS\\CO",
        },
    ),
    *refusals(
        Charge, "statement_descriptor_suffix", {"long": "X" * 23, "no-letter": "#1234", "star": "ORDER*42"}
    ),
    # Metadata: at most 50 keys, key <= 40 characters, value <= 500, strings.
    pytest.param(Charge, {"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata", id="metadata-51-keys"),
    pytest.param(Charge, {"metadata": {LONG_KEY: "v"}}, f"metadata[{LONG_KEY!r}]", id="metadata-long-key"),
    pytest.param(Charge, {"metadata": {"k": "v" * 501}}, "metadata['k']", id="metadata-long-value"),
    pytest.param(Charge, {"metadata": {"k": True}}, "metadata['k']", id="metadata-boolean-value"),
    pytest.param(Charge, {"metadata": {"k": float("nan")}}, "metadata['k']", id="metadata-nan-value"),
    pytest.param(Charge, {"metadata": ["k", "v"]}, "metadata", id="metadata-not-a-dict"),
    pytest.param(Customer, {"metadata": {"k": None}}, "metadata['k']", id="customer-metadata-none-value"),
    pytest.param(Product, {"metadata": {"k": "v" * 501}}, "metadata['k']", id="product-metadata-long-value"),
    pytest.param(
        Refund, {"metadata": {LONG_KEY: "v"}}, f"metadata[{LONG_KEY!r}]", id="refund-metadata-long-key"
    ),
    # extra_params: a dict, and not a second way to pass a named parameter.
    pytest.param(Charge, {"extra_params": {"amount": 5}}, "extra_params['amount']", id="extra-params-redo"),
    pytest.param(Product, {"extra_params": "type=good"}, "extra_params", id="extra-params-not-a-dict"),
    # idempotency_key: Stripe allows up to 255 characters.
    pytest.param(Charge, {"idempotency_key": " "}, "idempotency_key", id="idempotency-key-blank"),
    pytest.param(Product, {"idempotency_key": "k" * 256}, "idempotency_key", id="idempotency-key-long"),
    # Customer.
    pytest.param(Customer, {"email": "ada at example.com"}, "email", id="customer-email"),
    pytest.param(Customer, {"phone": "+44 20 7946 0000 ext. 123"}, "phone", id="customer-phone-long"),
    pytest.param(
        Customer, {"shipping": {"phone": "+1 555"}}, "shipping.name", id="customer-shipping-no-name"
    ),
    pytest.param(
        Customer, {"shipping": {"name": "Ada"}}, "shipping.address", id="customer-shipping-no-address"
    ),
    pytest.param(
        Customer, {"address": {"street": "1 Main St"}}, "address.street", id="customer-address-field"
    ),
    # Find customer: exactly one of customer_id / email.
    pytest.param(Find, {"customer_id": None}, "customer_id", id="find-neither"),
    pytest.param(Find, {"email": "ada@example.com"}, "email", id="find-both"),
    pytest.param(Find, {"customer_id": "cus_1/../../v1/charges"}, "customer_id", id="find-id-not-an-id"),
    pytest.param(Find, {"customer_id": None, "email": "ada"}, "email", id="find-email-malformed"),
    pytest.param(Find, {"fail_if_missing": "perhaps"}, "fail_if_missing", id="find-fail-if-missing"),
    # Product: a name that is not blank; at most 8 images.
    pytest.param(Product, {"name": None}, "name", id="product-name-missing"),
    pytest.param(Product, {"name": ""}, "name", id="product-name-empty"),
    pytest.param(Product, {"name": "   "}, "name", id="product-name-blank"),
    # Product names are limited to 250 characters since API version 2018-10-31 (changelog).
    pytest.param(Product, {"name": "M" * 251}, "name", id="product-name-251"),
    # A product's descriptor is a complete one: 5 to 22 characters, with a letter.
    *refusals(Product, "statement_descriptor", {"4-chars": "MUGS", "no-letter": "12345", "star": "MUGS*CO"}),
    pytest.param(
        Product, {"images": [f"https://x.test/{i}.png" for i in range(9)]}, "images", id="product-9-images"
    ),
    pytest.param(Product, {"images": "https://x.test/1.png"}, "images", id="product-images-not-a-list"),
    pytest.param(Product, {"images": ["https://x.test/1.png", ""]}, "images[1]", id="product-image-empty"),
    pytest.param(Product, {"unit_label": "kilograms-ish"}, "unit_label", id="product-unit-label-long"),
    pytest.param(Product, {"active": "yes"}, "active", id="product-active-not-boolean"),
    pytest.param(Product, {"shippable": 1}, "shippable", id="product-shippable-not-boolean"),
    # Refund: exactly one of charge / payment_intent; a positive whole amount; a known reason.
    pytest.param(Refund, {"charge": None}, "charge", id="refund-neither"),
    pytest.param(
        Refund, {"payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa"}, "payment_intent", id="refund-both"
    ),
    pytest.param(Refund, {"amount": 0}, "amount", id="refund-amount-zero"),
    pytest.param(Refund, {"amount": -5}, "amount", id="refund-amount-negative"),
    pytest.param(Refund, {"amount": "2.50"}, "amount", id="refund-amount-decimal"),
    pytest.param(Refund, {"amount": True}, "amount", id="refund-amount-boolean"),
    pytest.param(Refund, {"reason": "changed_mind"}, "reason", id="refund-reason"),
]


# The boundaries Stripe accepts: each passes the local checks, at parse time and once rendered,
# and is sent as given. Sources as in CASES above; the customer's shipping.phone has no 20-character
# limit (only the customer's own phone has: API reference, "Create a customer"), and a charge's
# shipping address needs no line1 (API reference, "Create a charge"; stripe-python 16.1.0's
# ChargeCreateParamsShippingAddress, generated from Stripe's OpenAPI spec, marks it NotRequired).
ACCEPTED = [
    pytest.param(Charge, {"amount": 50}, id="charge-usd-minimum"),
    pytest.param(Charge, {"amount": "50"}, id="charge-usd-minimum-as-string"),
    pytest.param(Charge, {"amount": 30, "currency": "gbp"}, id="charge-gbp-minimum"),
    pytest.param(Charge, {"amount": 50, "currency": "jpy"}, id="charge-jpy-minimum"),
    pytest.param(Charge, {"amount": 17_500, "currency": "huf"}, id="charge-huf-minimum"),
    # 7,900.00 IDR: 0.50 USD at the emulator's fixed rate (the local check asks only for 1).
    pytest.param(
        Charge, {"amount": 790_000, "currency": "idr"}, id="charge-currency-without-published-minimum"
    ),
    pytest.param(Charge, {"amount": 5_120, "currency": "kwd"}, id="charge-kwd-ending-in-0"),
    pytest.param(Charge, {"amount": 10_000, "currency": "isk"}, id="charge-isk-whole-kronur"),
    pytest.param(Charge, {"amount": 99_999_999}, id="charge-eight-digits"),
    pytest.param(Charge, {"description": "d" * 40_000}, id="charge-description-40000"),
    pytest.param(Customer, {"email": "a" * 500 + "@example.com"}, id="customer-email-512"),
    # No limit is documented for a receipt address (stripe-python 16.1.0, ChargeCreateParams.receipt_email).
    pytest.param(Charge, {"receipt_email": "a" * 600 + "@example.com"}, id="charge-receipt-email-no-limit"),
    pytest.param(Product, {"description": "d" * 40_000}, id="product-description-40000"),
    pytest.param(Charge, {"statement_descriptor": "M" * 22}, id="charge-descriptor-22"),
    pytest.param(Charge, {"statement_descriptor": "10K"}, id="charge-descriptor-short-used-as-suffix"),
    pytest.param(Charge, {"statement_descriptor_suffix": "O1234"}, id="charge-suffix-letter-and-digits"),
    pytest.param(Charge, {"statement_descriptor_suffix": "10K RUN & co."}, id="charge-suffix-punctuation"),
    pytest.param(
        Charge,
        {"shipping": {"name": "Ada", "address": {"city": "London", "country": "GB"}}},
        id="charge-shipping-without-line1",
    ),
    pytest.param(
        Customer,
        {
            "phone": "+44 20 7946 0000 x12",
            "shipping": {"name": "Ada", "address": ADDRESS, "phone": "+44 20 7946 0000 ext. 123"},
        },
        id="customer-phone-20-and-long-shipping-phone",
    ),
    pytest.param(Product, {"name": "M" * 250}, id="product-name-250"),
    pytest.param(Product, {"statement_descriptor": "MUGS1"}, id="product-descriptor-5"),
    pytest.param(
        Product, {"statement_descriptor": "MUG-CO.COM 24/7 #1 (UK)"[:22]}, id="product-descriptor-22"
    ),
]


@pytest.mark.parametrize(("operator", "overrides"), ACCEPTED)
def test_what_stripe_accepts_passes_the_checks_and_is_sent(
    stripe_env: StripeEmulator,
    operator: type[StripeBaseOperator],
    overrides: dict[str, Any],
) -> None:
    task = operator(task_id="ok", **{**VALID[operator], **overrides})  # parse time: no error
    if str(overrides.get("currency", "")).lower() in MINIMUM_CHARGE_AMOUNTS:
        # The minimum table is per settlement currency: Stripe takes 30 GBP from an account settling in GBP.
        stripe_env.settlement_currency = overrides["currency"]
    for name, value in overrides.items():  # and once rendered: sent as given (amounts as numbers)
        expected = int(value) if name == "amount" else value.lower() if name == "currency" else value
        assert task.stripe_params()[name] == expected
    assert task.execute(task_context())["id"]
    assert stripe_env.count() == 1


def assert_names(error: StripeValidationError, field: str) -> None:
    assert isinstance(error, AirflowFailException)
    assert error.param == field
    assert str(error).startswith(f"Invalid {field}: "), str(error)


@pytest.mark.parametrize(("operator", "overrides", "field"), CASES)
def test_literal_value_is_refused_when_the_dag_is_parsed(
    stripe_env: StripeEmulator, operator: type[StripeBaseOperator], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(StripeValidationError) as caught:
        operator(task_id="bad", **{**VALID[operator], **overrides})
    assert_names(caught.value, field)
    assert stripe_env.count() == 0


@pytest.mark.parametrize(("operator", "overrides", "field"), CASES)
def test_rendered_value_is_refused_before_any_request(
    stripe_env: StripeEmulator, operator: type[StripeBaseOperator], overrides: dict[str, Any], field: str
) -> None:
    task = operator(task_id="bad", **VALID[operator])
    for name, value in overrides.items():  # what rendering the templates would have set
        setattr(task, name, value)
    with pytest.raises(StripeValidationError) as caught:
        task.execute(task_context())
    assert_names(caught.value, field)
    assert stripe_env.count() == 0


def test_error_messages_say_what_to_do() -> None:
    with pytest.raises(StripeValidationError) as caught:
        Charge(task_id="c", amount=1.00, currency="usd", source="tok_visa")  # type: ignore[arg-type]
    assert "smallest unit (1.00 USD is 100)" in str(caught.value)
    with pytest.raises(StripeValidationError) as caught:
        Charge(task_id="c", amount=100, currency="usd", source="card_1MvoiELkdIwHu7ixOeFGbN9D")
    assert "only be charged through the customer" in str(caught.value)
    with pytest.raises(StripeValidationError) as caught:
        Charge(task_id="c", amount=100, currency="usd", source="tok_visa", extra_params={"currency": "eur"})
    assert "pass it as currency= instead" in str(caught.value)
    with pytest.raises(StripeValidationError) as caught:
        Refund(task_id="r", charge="ch_1", payment_intent="pi_1")
    assert "charge or payment_intent, not both" in str(caught.value)


def test_templates_wait_for_rendering() -> None:
    charge = Charge(
        task_id="c",
        amount="{{ params.amount }}",
        currency="{{ params.currency }}",
        customer="{{ ti.xcom_pull(task_ids='create_customer')['id'] }}",
        metadata={"order": "{{ params.order }}"},
    )
    assert charge.amount == "{{ params.amount }}"  # nothing is rewritten at parse time
    Refund(task_id="r", payment_intent="{{ params.pi }}", amount="{{ params.amount }}")
    Find(task_id="f", email="{{ dag_run.conf['email'] }}")


def test_every_parameter_is_templated() -> None:
    for operator in (Charge, Customer, Product, Refund):
        assert set(operator.template_fields) == {
            *operator.spec.fields,
            "extra_params",
            "idempotency_key",
            "stripe_account",
        }
        assert operator.template_fields_renderers["extra_params"] == "json"
        assert operator.template_fields_renderers.get("metadata") == "json"
    assert set(Find.template_fields) == {
        "customer_id",
        "email",
        "fail_if_missing",
        "extra_params",
        "stripe_account",
    }
    assert Charge.template_fields_renderers["shipping"] == "json"
    assert Customer.template_fields_renderers["address"] == "json"
    assert Product.template_fields_renderers["images"] == "json"


def test_construction_does_no_io_and_does_not_load_the_hook() -> None:
    script = """
import json, sys
from airflow_provider_stripe.operators.stripe import StripeCreateChargeOperator, StripeFindCustomerOperator
StripeCreateChargeOperator(
    task_id="c", amount=100, currency="usd", source="tok_visa", stripe_conn_id="nowhere"
)
StripeFindCustomerOperator(task_id="f", email="ada@example.com", stripe_conn_id="nowhere")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("airflow_provider_stripe"))))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "airflow_provider_stripe.hooks.stripe" not in loaded
    assert "airflow_provider_stripe.api.calls" not in loaded


def test_numeric_metadata_values_are_sent_as_strings(stripe_env: StripeEmulator) -> None:
    """API reference, "Metadata": values are strings; a number is form-encoded as its text, which Stripe
    stores (stripe-python sends {"order": 42} as metadata[order]=42). Accepted at parse, sent as text."""
    task = Charge(task_id="ok", **{**VALID[Charge], "metadata": {"order": 42, "ratio": 1.5}})
    assert stripe_env.count() == 0
    assert task.stripe_params()["metadata"] == {"order": "42", "ratio": "1.5"}
    assert task.execute(task_context())["metadata"] == {"order": "42", "ratio": "1.5"}
