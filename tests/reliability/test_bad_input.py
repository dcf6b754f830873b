"""Bad input, in one table across the four actions, the two sensors and the connection.

Every row is a bad value. It must fail with a ``StripeValidationError`` that names the field at
fault, and before any request: the emulator (the connection's host) must have logged nothing.
A value written literally in the DAG file must fail when the DAG file is parsed (constructing the
task); a templated value, and anything about the connection, when the task runs (its templates
rendered by Airflow's Jinja, then ``execute()``).

``tests/operators/test_operator_checks.py`` holds the operators' field rules one by one (each
checked both literally and as a rendered value); this table does not repeat them. It adds what
those do not cover: unknown currencies, values of the wrong type, values that only go wrong once
a template renders, the sensors' settings and filters, and bad connections.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import DAG, AirflowFailException

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.operators.stripe import (
    StripeCreateChargeOperator,
    StripeCreateCustomerOperator,
    StripeCreateProductOperator,
    StripeFindCustomerOperator,
)
from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewRefundSensor
from airflow_provider_stripe.testing import StripeEmulator
from tests.reliability.figures import record

Charge = StripeCreateChargeOperator
Customer = StripeCreateCustomerOperator
Find = StripeFindCustomerOperator
Product = StripeCreateProductOperator
NewCharges = StripeNewChargeSensor
NewRefunds = StripeNewRefundSensor

VALID: dict[type, dict[str, Any]] = {
    Charge: {"amount": 2000, "currency": "usd", "source": "tok_visa"},
    Customer: {"email": "ada@example.com"},
    Find: {"customer_id": "cus_NffrFeUfNV2Hib"},
    Product: {"name": "Mug"},
    NewCharges: {"deferrable": True},  # execute() polls once, then would defer: no Airflow machinery
    NewRefunds: {"deferrable": True},
}
ADDRESS = {"line1": "1 Main St", "city": "London", "country": "GB"}


@dataclass(frozen=True)
class Bad:
    """One bad input: ``overrides`` on top of a valid task, or ``connection`` fields, and the field
    the error must name (``param``) and mention in its message (``mentions``, default the field)."""

    target: type
    overrides: dict[str, Any]
    field: str
    connection: dict[str, Any] | None = None
    mentions: str | None = None
    at_parse_time: bool = True


def templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(templated(item) for item in value.values())
    return isinstance(value, (list, tuple)) and any(templated(item) for item in value)


def bad(
    target: type,
    field: str,
    *,
    id: str,
    connection: dict[str, Any] | None = None,
    at_parse_time: bool | None = None,
    **overrides: Any,
) -> Any:
    """A row. By default a literal value fails when the DAG is parsed; a templated one or a bad
    connection when the task runs."""
    if at_parse_time is None:
        at_parse_time = connection is None and not templated(overrides)
    mentions = "key" if field == "api_key" else None
    return pytest.param(Bad(target, overrides, field, connection, mentions, at_parse_time), id=id)


CASES = [
    # Currencies must be ones Stripe supports, not just three letters.
    bad(Charge, "currency", currency="xyz", id="charge-currency-unknown"),
    bad(Charge, "currency", currency="XTS", id="charge-currency-iso-test-code"),
    bad(Charge, "currency", currency="btc", id="charge-currency-crypto"),
    bad(Charge, "currency", currency="{{ 'ZZZ' }}", id="charge-currency-rendered-unknown"),
    # Amounts: wrong types, and templates that render to something that is not a whole number.
    bad(Charge, "amount", amount="{{ 'abc' }}", id="charge-amount-rendered-letters"),
    bad(Charge, "amount", amount="{{ 19.99 }}", id="charge-amount-rendered-decimal"),
    bad(Charge, "amount", amount="{{ 10 ** 9 }}", id="charge-amount-rendered-ten-digits"),
    bad(Charge, "amount", amount=[100], id="charge-amount-list"),
    bad(Charge, "amount", amount=Decimal("100"), id="charge-amount-decimal-object"),
    bad(Charge, "customer", customer=123, id="charge-customer-number"),
    # Stripe's minimum charge and three-decimal rule, once a template renders (the literal cases are
    # in test_operator_checks.py; https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
    bad(Charge, "amount", amount="{{ 10 * 4 }}", id="charge-amount-rendered-below-minimum"),
    bad(Charge, "amount", amount=100, currency="{{ 'HUF' }}", id="charge-currency-rendered-huf-minimum"),
    bad(Charge, "amount", amount="{{ 5125 }}", currency="kwd", id="charge-amount-rendered-kwd-last-digit"),
    # Partial or malformed shipping.
    bad(Charge, "shipping.name", shipping={"address": ADDRESS}, id="charge-shipping-address-only"),
    bad(
        Charge,
        "shipping.address",
        shipping={"name": "Ada", "address": "1 Main St"},
        id="charge-shipping-address-string",
    ),
    # Metadata that is too big or not strings, literally or once rendered.
    bad(Charge, "metadata['note']", metadata={"note": "{{ 'x' * 501 }}"}, id="charge-metadata-rendered-long"),
    bad(Charge, "metadata['k']", metadata={"k": {"nested": "v"}}, id="charge-metadata-nested"),
    bad(
        Product,
        "metadata",
        metadata={f"k{i}": "{{ run_id }}" for i in range(51)},
        at_parse_time=True,  # the keys are already known
        id="product-metadata-51-templated-keys",
    ),
    bad(Customer, "metadata['a[b]']", metadata={"a[b]": "v"}, id="customer-metadata-bracket-key"),
    bad(Charge, "capture", capture="{{ 'maybe' }}", id="charge-capture-rendered"),
    # Customer.
    bad(Customer, "email", email="{{ 'not-an-email' }}", id="customer-email-rendered"),
    bad(Customer, "name", name="x" * 257, id="customer-name-long"),
    bad(Customer, "address", address="1 Main St, London", id="customer-address-string"),
    bad(Customer, "shipping.name", shipping={"address": ADDRESS}, id="customer-shipping-address-only"),
    bad(Customer, "payment_method", payment_method=123, id="customer-payment-method-number"),
    bad(Customer, "phone", phone=442079460000, id="customer-phone-number-type"),
    # Find customer.
    bad(Find, "customer_id", customer_id="{{ 'ada@example.com' }}", id="find-id-rendered-email"),
    bad(Find, "customer_id", customer_id=42, id="find-id-number"),
    bad(Find, "email", customer_id=None, email=["ada@example.com"], id="find-email-list"),
    bad(Find, "fail_if_missing", fail_if_missing="{{ 'sometimes' }}", id="find-fail-if-missing-rendered"),
    # Product.
    bad(Product, "name", name=123, id="product-name-number"),
    bad(Product, "name", name="{{ '' }}", id="product-name-rendered-empty"),
    bad(Product, "images[0]", images=[123], id="product-image-number"),
    bad(Product, "active", active="{{ 'maybe' }}", id="product-active-rendered"),
    bad(Product, "statement_descriptor", statement_descriptor="X" * 23, id="product-descriptor-long"),
    bad(
        Product,
        "statement_descriptor",
        statement_descriptor="{{ '12' ~ '345' }}",
        id="product-descriptor-rendered-digits",
    ),
    bad(Product, "name", name="{{ 'M' * 251 }}", id="product-name-rendered-251"),
    bad(
        Charge,
        "statement_descriptor_suffix",
        statement_descriptor_suffix="{{ 'ORDER' ~ '*' }}",
        id="charge-suffix-rendered-star",
    ),
    # Sensors: absurd poke intervals, batch sizes, lookbacks and starts.
    bad(NewCharges, "poke_interval", poke_interval=0, id="sensor-poke-zero"),
    bad(NewCharges, "poke_interval", poke_interval=-15, id="sensor-poke-negative"),
    bad(NewCharges, "poke_interval", poke_interval=timedelta(days=30), id="sensor-poke-30-days"),
    bad(NewCharges, "poke_interval", poke_interval="15", id="sensor-poke-string"),
    bad(NewRefunds, "poke_interval", poke_interval=float("nan"), id="sensor-poke-nan"),
    bad(NewRefunds, "max_batch", max_batch=0, id="sensor-batch-zero"),
    bad(NewRefunds, "max_batch", max_batch=1001, id="sensor-batch-1001"),
    bad(NewCharges, "max_batch", max_batch="100", id="sensor-batch-string"),
    bad(NewCharges, "max_batch", max_batch=2.5, id="sensor-batch-float"),
    bad(NewCharges, "lookback", lookback=timedelta(days=2), id="sensor-lookback-2-days"),
    bad(NewRefunds, "lookback", lookback=-1, id="sensor-lookback-negative"),
    bad(NewRefunds, "lookback", lookback="5 minutes", id="sensor-lookback-string"),
    bad(NewCharges, "start_from", start_from="yesterday", id="sensor-start-words"),
    bad(NewCharges, "start_from", start_from=-5, id="sensor-start-negative"),
    bad(NewRefunds, "start_from", start_from=float("inf"), id="sensor-start-infinite"),
    bad(NewRefunds, "start_from", start_from="{{ 'not a date' }}", id="sensor-start-rendered-words"),
    # Sensors: filters of the wrong kind.
    bad(NewCharges, "customer", customer=123, id="sensor-customer-number"),
    bad(NewCharges, "customer", customer=["cus_A1", "cus_B2"], id="sensor-customer-list"),
    bad(NewCharges, "customer", customer="ch_3MmlLrLkdIwHu7ix0snN0B15", id="sensor-customer-charge-id"),
    bad(NewCharges, "customer", customer="{{ 'ada@example.com' }}", id="sensor-customer-rendered-email"),
    bad(NewRefunds, "charge", charge={"id": "ch_1"}, id="sensor-charge-dict"),
    bad(NewRefunds, "charge", charge="cus_NffrFeUfNV2Hib", id="sensor-charge-customer-id"),
    bad(NewRefunds, "payment_intent", payment_intent=5, id="sensor-payment-intent-number"),
    bad(NewRefunds, "payment_intent", payment_intent="{{ 'ch_1' }}", id="sensor-payment-intent-rendered"),
    # The connection: keys that are not secret keys, hosts that are not HTTPS, bad extras.
    bad(Charge, "api_key", connection={"password": "pk_test_TYooMQauvdEDq54NiTphI7jx"}, id="conn-pk-test"),
    bad(NewCharges, "api_key", connection={"password": "pk_live_TYooMQauvdEDq54NiTph"}, id="conn-pk-live"),
    bad(Find, "api_key", connection={"password": ""}, id="conn-no-key"),
    bad(Product, "api_key", connection={"password": "sk_test_abc def ghijklmn"}, id="conn-key-space"),
    bad(Customer, "host", connection={"host": "http://stripe.example.com"}, id="conn-plain-http"),
    bad(NewRefunds, "host", connection={"host": "http://10.0.0.5:12111"}, id="conn-http-private-ip"),
    bad(Product, "host", connection={"host": "http://127.0.0.1.nip.io:12111"}, id="conn-http-lookalike"),
    bad(Find, "host", connection={"host": "http://127.0.0.1@stripe.example.com"}, id="conn-http-userinfo"),
    bad(Charge, "host", connection={"host": "ftp://127.0.0.1"}, id="conn-ftp"),
    bad(Customer, "max_retries", connection={"extra": {"max_retries": "many"}}, id="conn-retries-word"),
    bad(NewCharges, "timeout", connection={"extra": {"timeout": 0}}, id="conn-timeout-zero"),
    bad(
        Charge,
        "stripe_version",
        connection={"extra": {"stripe_version": "2024-6-20"}},
        id="conn-version-typo",
    ),
    bad(
        NewRefunds,
        "stripe_version",
        connection={"extra": {"stripe_version": "latest"}},
        id="conn-version-word",
    ),
]

_counts: Counter[str] = Counter()


def context_for(task: Any) -> dict[str, Any]:
    """What the operators and a deferrable sensor's first poke read from a task's context."""
    ti = SimpleNamespace(
        dag_id="bad_input",
        task_id=task.task_id,
        run_id="manual__bad_input",
        map_index=-1,
        xcom_pull=lambda **_: None,  # no earlier run: no cursor
        xcom_push=lambda **_: None,
    )
    return {"ti": ti, "dag_run": None}


def build(case: Bad) -> Any:
    with DAG("bad_input", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
        return case.target(task_id="bad", **{**VALID[case.target], **case.overrides})


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_naming_the_field_before_any_request(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, case: Bad
) -> None:
    connection = {"conn_type": "stripe", "password": stripe_emulator.api_key}
    connection.update({"host": stripe_emulator.base_url, **(case.connection or {})})
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", json.dumps(connection))
    if case.at_parse_time:
        with pytest.raises(StripeValidationError) as caught:
            build(case)
    else:
        task = build(case)
        context = context_for(task)
        task.render_template_fields(context)
        with pytest.raises(StripeValidationError) as caught:
            task.execute(context)
    error = caught.value
    assert isinstance(error, AirflowFailException)  # no task retries wasted on it
    assert error.param == case.field, str(error)
    assert (case.mentions or case.field) in str(error)
    assert stripe_emulator.count() == 0
    _counts[case.target.__name__] += 1
    _counts["at parse time" if case.at_parse_time else "at run time"] += 1
    if sum(_counts[t.__name__] for t in VALID) == len(CASES):
        targets = ", ".join(f"{_counts[t.__name__]} {t.__name__}" for t in VALID)
        record(
            "bad input table",
            f"{len(CASES)} bad inputs: {targets}",
            f"{_counts['at parse time']} refused at DAG-parse time, {_counts['at run time']} at run time "
            "(after rendering)",
            "0 requests sent; every error names its field",
        )


def test_every_currency_stripe_supports_is_accepted_in_any_case() -> None:
    from airflow_provider_stripe.currencies import SUPPORTED_CURRENCIES

    for code in sorted(SUPPORTED_CURRENCIES):  # 1,000.00 HUF: above every minimum, ending in 0
        for written in (code, code.upper()):
            Charge(task_id="ok", amount=100_000, currency=written, source="tok_visa")
