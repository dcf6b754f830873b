"""The validator, its field kinds and rules, the currency facts and the idempotency key, as pure
functions: no Airflow run, no Stripe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.idempotency import task_idempotency_key
from airflow_provider_stripe.validation import (
    AtLeastOne,
    ChargeableAmount,
    ExactlyOne,
    RequiredWhen,
    Spec,
    choice,
    currency,
    flag,
    integer,
    mapping,
    metadata,
    number,
    required,
    statement_descriptor,
    strings,
    text,
)

SPEC = Spec(
    fields={
        "amount": required(integer(1, max_digits=8)),
        "currency": text(pattern=r"[A-Za-z]{3}", lower=True, expected="a currency"),
        "capture": flag(),
        "reason": choice("duplicate", "fraudulent"),
        "images": strings(2),
        "shipping": mapping({"name": required(text()), "phone": text()}),
        "metadata": metadata(),
        "charge": text(),
        "payment_intent": text(),
        "customer": text(),
        "source": text(),
    },
    rules=(
        ExactlyOne(("charge", "payment_intent")),
        AtLeastOne(("customer", "source")),
        RequiredWhen("customer", "source", ("card_",), "cards belong to customers"),
    ),
)
VALID = {"amount": 100, "charge": "ch_1", "source": "tok_visa"}


def refusal(values: dict[str, object], extra_params: object = None) -> StripeValidationError:
    with pytest.raises(StripeValidationError) as caught:
        SPEC.validate({**VALID, **values}, extra_params)
    return caught.value


def test_validate_normalises_and_drops_absent_values() -> None:
    params = SPEC.validate(
        {
            **VALID,
            "amount": " 2000 ",
            "currency": "EUR",
            "capture": "False",
            "images": [],
            "metadata": {},
            "shipping": {"name": "Ada", "phone": ""},
            "reason": None,
            "payment_intent": "",
        }
    )
    assert params == {
        "amount": 2000,
        "currency": "eur",
        "capture": False,
        "shipping": {"name": "Ada"},
        "charge": "ch_1",
        "source": "tok_visa",
    }


def test_validation_error_is_a_fail_exception_naming_the_field() -> None:
    error = refusal({"amount": "1.5"})
    assert isinstance(error, AirflowFailException)
    assert error.param == "amount"
    assert str(error).startswith("Invalid amount: it must be a whole number")
    assert "'1.5'" in str(error)


@pytest.mark.parametrize(
    "amount", [1.0, "1.5", "1.00", 0, "0", -5, "-5", "+5", True, False, 123_456_789, [1]]
)
def test_integer_refusals(amount: object) -> None:
    assert refusal({"amount": amount}).param == "amount"


def test_rules() -> None:
    assert refusal({"charge": None}).param == "charge"
    assert refusal({"payment_intent": "pi_1"}).param == "payment_intent"
    assert refusal({"source": None}).param == "customer"
    assert refusal({"source": "card_1"}).param == "customer"
    assert SPEC.validate({**VALID, "source": "card_1", "customer": "cus_1"})["source"] == "card_1"


def test_nested_fields_are_named_with_their_path() -> None:
    assert refusal({"shipping": {"phone": "1"}}).param == "shipping.name"
    assert refusal({"shipping": {"name": "A", "zip": "1"}}).param == "shipping.zip"
    assert refusal({"images": ["a", ""]}).param == "images[1]"
    assert refusal({"images": ["a", "b", "c"]}).param == "images"


def test_metadata_limits() -> None:
    assert SPEC.validate({**VALID, "metadata": {f"k{i}": "v" * 500 for i in range(50)}})
    assert SPEC.validate({**VALID, "metadata": {"k" * 40: "v"}})
    assert refusal({"metadata": {f"k{i}": "v" for i in range(51)}}).param == "metadata"
    assert refusal({"metadata": {"k" * 41: "v"}}).param == f"metadata[{'k' * 41!r}]"
    assert refusal({"metadata": {"k": "v" * 501}}).param == "metadata['k']"
    assert refusal({"metadata": {"k": True}}).param == "metadata['k']"
    assert SPEC.validate({**VALID, "metadata": {"k": 42}})["metadata"] == {"k": "42"}
    assert refusal({"metadata": {"a[b]": "v"}}).param == "metadata['a[b]']"
    assert refusal({"metadata": "{'k': 'v'}"}).param == "metadata"


def test_extra_params_are_added_but_cannot_redo_a_field() -> None:
    assert SPEC.validate(VALID, {"transfer_group": "g"})["transfer_group"] == "g"
    assert refusal({}, {"amount": 5}).param == "extra_params['amount']"
    assert refusal({}, "amount=5").param == "extra_params"


def test_check_literals_skips_templates_and_xcom_references() -> None:
    xcom_like = object()
    SPEC.check_literals(
        {
            "amount": "{{ 100 * 20 }}",
            "charge": xcom_like,
            "payment_intent": None,
            "source": "{{ params.source }}",
            "metadata": {"k": "{{ ds }}"},
            "images": ["{{ params.image }}"],
        },
        {"expand": "{{ params.expand }}"},
    )
    # A literal is still checked, and so are rules whose fields are all known.
    with pytest.raises(StripeValidationError, match="Invalid amount"):
        SPEC.check_literals({**VALID, "amount": 1.5})
    with pytest.raises(StripeValidationError, match="Invalid customer"):
        SPEC.check_literals({**VALID, "source": "card_1"})
    with pytest.raises(StripeValidationError, match="Invalid payment_intent"):
        SPEC.check_literals({**VALID, "charge": "ch_1", "payment_intent": "pi_1"})
    # One of the two is a template: it may render to the only one given, so the rule waits.
    SPEC.check_literals({**VALID, "charge": None, "payment_intent": "{{ params.pi }}"})


def test_idempotency_key_is_one_per_task_instance() -> None:
    key = task_idempotency_key("dag", "task", "run", -1)
    assert key == task_idempotency_key("dag", "task", "run", -1) == task_idempotency_key("dag", "task", "run")
    assert key == task_idempotency_key("dag", "task", "run", None)
    assert key.startswith("airflow-")
    assert len(key) <= 255
    others = {
        task_idempotency_key("dag2", "task", "run", -1),
        task_idempotency_key("dag", "task2", "run", -1),
        task_idempotency_key("dag", "task", "run2", -1),
        task_idempotency_key("dag", "task", "run", 0),
        task_idempotency_key("dag", "task", "run", 1),
        task_idempotency_key("da", "gtask", "run", -1),
    }
    assert key not in others
    assert len(others) == 6


def test_number_is_the_one_range_check() -> None:
    timeout = number(0.1, 600)
    retries = number(0, 10, whole=True)
    assert timeout.check("timeout", "12.5") == 12.5
    assert timeout.check("timeout", 600) == 600.0
    assert retries.check("max_retries", "3") == 3
    assert isinstance(retries.check("max_retries", 3.0), int)
    for bad in (0, 600.5, "soon", True, float("nan"), float("inf"), None, [1]):
        with pytest.raises(
            StripeValidationError, match=r"Invalid timeout: it must be a number from 0\.1 to 600"
        ):
            timeout.check("timeout", bad)
    with pytest.raises(StripeValidationError, match="a whole number from 0 to 10") as caught:
        retries.check("max_retries", 2.5)
    assert caught.value.param == "max_retries"
    with pytest.raises(StripeValidationError, match=r"\(a sensor's batch\)"):
        number(1, 1000, whole=True, strings=False, hint="a sensor's batch").check("max_batch", "100")
    lookback = number(0, 86_400, durations=True, strings=False, hint="seconds, or a timedelta")
    assert lookback.check("lookback", timedelta(minutes=5)) == 300.0
    assert lookback.check("lookback", 60) == 60.0
    for bad in (timedelta(days=2), timedelta(seconds=-1), "60"):
        with pytest.raises(
            StripeValidationError, match="Invalid lookback: it must be a number from 0 to 86400"
        ):
            lookback.check("lookback", bad)
    with pytest.raises(StripeValidationError):
        timeout.check("timeout", timedelta(seconds=5))  # only where durations are allowed


@pytest.mark.parametrize(
    ("value", "complete", "problem"),
    [
        ("X" * 23, False, "from 1 to 22 characters, not 23"),
        ("MUGS", True, "from 5 to 22 characters, not 4"),
        ("", True, "from 5 to 22 characters, not 0"),
        ("12345", True, "at least one letter"),
        ("#1234", False, "at least one letter"),
        ("ÉÉÉÉÉ", True, "at least one letter"),  # Stripe strips non-ASCII characters
        ("MUGS*CO", True, "cannot contain *"),
        ("ADA'S MUGS", True, "cannot contain '"),
        ('"MUGS"', True, 'cannot contain "'),
        ("<MUGS>", True, "cannot contain < >"),
        ("MUGS\\CO", True, "cannot contain \\"),
        (42, False, "must be a string"),
    ],
)
def test_statement_descriptor_refusals(value: object, complete: bool, problem: str) -> None:
    """https://docs.stripe.com/get-started/account/statement-descriptors#requirements"""
    with pytest.raises(StripeValidationError) as caught:
        statement_descriptor(complete=complete).check("statement_descriptor", value)
    assert problem in str(caught.value)
    assert caught.value.param == "statement_descriptor"


def test_statement_descriptor_boundaries_stripe_accepts() -> None:
    complete, suffix = statement_descriptor(complete=True), statement_descriptor(complete=False)
    for value in ("MUGS1", "A" * 22, "Mug Co. #42 & sons", "Café Ada"):
        assert complete.check("statement_descriptor", value) == value
    for value in ("A", "10K", "O1234", "A" * 22):
        assert suffix.check("statement_descriptor_suffix", value) == value


CHARGE = Spec(
    fields={"amount": required(integer(1)), "currency": required(currency())},
    rules=(ChargeableAmount("amount", "currency"),),
)


@pytest.mark.parametrize(
    ("amount", "code", "problem"),
    [
        (49, "usd", "at least 50 ($0.50 USD)"),
        (29, "GBP", "at least 30 (£0.30 GBP)"),
        (49, "jpy", "at least 50 (¥50 JPY)"),
        (17_499, "huf", "at least 17500 (175.00 HUF)"),
        (5_125, "kwd", "its amount must end in 0, e.g. 5120"),
        (100_000_000, "usd", "at most 99999999"),
    ],
)
def test_chargeable_amount_refusals(amount: int, code: str, problem: str) -> None:
    """https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts and #three-decimal"""
    with pytest.raises(StripeValidationError) as caught:
        CHARGE.validate({"amount": amount, "currency": code})
    assert caught.value.param == "amount"
    assert problem in str(caught.value), str(caught.value)


def test_chargeable_amount_boundaries_and_unknown_parts() -> None:
    for amount, code in [
        (50, "usd"),
        (30, "gbp"),
        (50, "jpy"),
        (5_120, "kwd"),
        (1, "idr"),
        (99_999_999, "usd"),
    ]:
        assert CHARGE.validate({"amount": amount, "currency": code})["amount"] == amount
    # The rule waits while either part is a template, and leaves a malformed part to its own field.
    CHARGE.check_literals({"amount": 1, "currency": "{{ params.currency }}"})
    CHARGE.check_literals({"amount": "{{ params.amount }}", "currency": "usd"})
    with pytest.raises(StripeValidationError, match="Invalid currency"):
        CHARGE.validate({"amount": 1, "currency": "zzz"})


def test_currency_facts_have_one_home() -> None:
    from airflow_provider_stripe import currencies
    from airflow_provider_stripe.testing import currencies as emulator_currencies

    assert emulator_currencies.SUPPORTED is currencies.SUPPORTED_CURRENCIES
    assert emulator_currencies.MINIMUM_CHARGE is currencies.MINIMUM_CHARGE_AMOUNTS
    assert emulator_currencies.THREE_DECIMAL is currencies.THREE_DECIMAL_CURRENCIES
    assert emulator_currencies.ZERO_DECIMAL is currencies.ZERO_DECIMAL_CURRENCIES
    assert set(currencies.MINIMUM_CHARGE_AMOUNTS) <= currencies.SUPPORTED_CURRENCIES
    assert currencies.THREE_DECIMAL_CURRENCIES <= currencies.SUPPORTED_CURRENCIES
    assert (currencies.decimals("jpy"), currencies.decimals("usd"), currencies.decimals("kwd")) == (0, 2, 3)
    assert currencies.format_amount(5_120, "kwd") == "5.120"
