"""The validator and the idempotency key, as pure functions: no Airflow run, no Stripe."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.idempotency import task_idempotency_key
from airflow_provider_stripe.validation import (
    AtLeastOne,
    ExactlyOne,
    RequiredWhen,
    Spec,
    choice,
    flag,
    integer,
    mapping,
    metadata,
    required,
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
    assert refusal({"metadata": {"k": 42}}).param == "metadata['k']"
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
