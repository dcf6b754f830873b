"""The operators' execute() against the emulator, called directly: what is sent, what comes back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_stripe.exceptions import (
    StripeCardError,
    StripeIdempotencyError,
    StripeInvalidRequestError,
    StripeNotFoundError,
)
from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.idempotency import task_idempotency_key
from airflow_provider_stripe.operators.stripe import (
    StripeCreateChargeOperator,
    StripeCreateCustomerOperator,
    StripeCreateProductOperator,
    StripeCreateRefundOperator,
    StripeFindCustomerOperator,
)
from airflow_provider_stripe.testing import RecordedRequest, StripeEmulator
from tests.operators.conftest import task_context

ADDRESS = {"line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4LB", "country": "GB"}


def only_post(emulator: StripeEmulator) -> RecordedRequest:
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert len(posts) == 1, posts
    return posts[0]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything the operators logged: Airflow 2 logs through logging, Airflow 3 through structlog."""
    caplog.set_level(logging.INFO)

    def read() -> str:
        captured = capsys.readouterr()
        return caplog.text + captured.out + captured.err

    return read


def test_create_customer_sends_every_parameter(stripe_env: StripeEmulator) -> None:
    task = StripeCreateCustomerOperator(
        task_id="create_customer",
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+44 20 7946 0001",
        description="first customer",
        address=ADDRESS,
        shipping={"name": "Ada", "address": ADDRESS, "phone": "+44 20 7946 0002"},
        metadata={"crm_id": "42"},
        payment_method="pm_card_visa",
        extra_params={"preferred_locales": ["en", "fr"]},
    )
    customer = task.execute(task_context(task_id="create_customer"))

    assert [c["id"] for c in stripe_env.objects("customer")] == [customer["id"]]
    assert customer["phone"] == "+44 20 7946 0001"
    assert customer["shipping"]["phone"] == "+44 20 7946 0002"
    assert customer["address"]["city"] == "London"
    assert customer["metadata"] == {"crm_id": "42"}
    assert customer["preferred_locales"] == ["en", "fr"]
    sent = only_post(stripe_env)
    assert sent.path == "/v1/customers"
    assert sent.idempotency_key == task_idempotency_key("dag", "create_customer", "run", -1)
    assert sent.form["payment_method"] == "pm_card_visa"


def test_charge_takes_rendered_strings_and_normalises_them(stripe_env: StripeEmulator) -> None:
    task = StripeCreateChargeOperator(
        task_id="charge",
        amount="{{ params.amount }}",
        currency="{{ params.currency }}",
        source="tok_visa",
        capture="{{ params.capture }}",
        description="order 42",
        receipt_email="ada@example.com",
        statement_descriptor="ACME ORDER 42",
        statement_descriptor_suffix="ORDER 42",  # a suffix needs a letter too
        shipping={"name": "Ada", "address": ADDRESS, "carrier": "DHL", "tracking_number": "T1"},
        metadata={"order": "{{ params.order }}"},
    )
    # What rendering the templates sets: strings.
    task.amount, task.currency, task.capture, task.metadata = "2000", "USD", "False", {"order": "42"}
    charge = task.execute(task_context())

    sent = only_post(stripe_env)
    assert sent.form["amount"] == "2000"
    assert sent.form["currency"] == "usd"
    assert sent.form["capture"] == "false"
    assert (charge["amount"], charge["currency"], charge["captured"]) == (2000, "usd", False)
    assert charge["shipping"]["carrier"] == "DHL"
    assert charge["metadata"] == {"order": "42"}
    assert charge["statement_descriptor"] == "ACME ORDER 42"
    assert stripe_env.objects("charge")[0]["id"] == charge["id"]


def test_charge_a_saved_card_through_its_customer(stripe_env: StripeEmulator) -> None:
    customer = StripeHook().customers.create({"email": "ada@example.com", "source": "tok_visa"}).object
    task = StripeCreateChargeOperator(
        task_id="charge",
        amount=500,
        currency="eur",
        customer=customer["id"],
        source=customer["default_source"],
    )
    charge = task.execute(task_context())
    assert charge["customer"] == customer["id"]
    assert charge["source"]["id"] == customer["default_source"]


def test_product_with_every_parameter(stripe_env: StripeEmulator) -> None:
    task = StripeCreateProductOperator(
        task_id="product",
        name="Mug",
        description="A mug",
        active="false",
        images=[f"https://example.com/{i}.png" for i in range(8)],
        url="https://example.com/mug",
        unit_label="mug",
        shippable=True,
        statement_descriptor="ACME MUG",
        tax_code="txcd_99999999",
        metadata={"sku": "MUG-1"},
        extra_params={"type": "good"},
    )
    product = task.execute(task_context())
    assert product["active"] is False
    assert len(product["images"]) == 8
    assert (product["unit_label"], product["shippable"], product["type"]) == ("mug", True, "good")
    assert [p["id"] for p in stripe_env.objects("product")] == [product["id"]]


def test_refund_by_charge_and_by_payment_intent(stripe_env: StripeEmulator) -> None:
    charge = StripeHook().charges.create({"amount": 2000, "currency": "usd", "source": "pm_card_visa"}).object
    partial = StripeCreateRefundOperator(
        task_id="refund",
        charge=charge["id"],
        amount="500",
        reason="requested_by_customer",
        metadata={"a": "b"},
    ).execute(task_context(task_id="refund_part"))
    # Charges-API charges have no PaymentIntent (payment_intent: null), so a payment_intent refund
    # can only be shown reaching Stripe, which knows no such PaymentIntent here.
    with pytest.raises(StripeInvalidRequestError, match="No such payment_intent") as unknown:
        StripeCreateRefundOperator(task_id="refund", payment_intent="pi_3MtwBwLkdIwHu7ix28a3tqPa").execute(
            task_context(task_id="refund_by_intent")
        )
    assert unknown.value.param == "payment_intent"
    rest = StripeCreateRefundOperator(task_id="refund", charge=charge["id"]).execute(
        task_context(task_id="refund_rest")
    )
    assert (partial["amount"], partial["reason"], partial["metadata"]) == (
        500,
        "requested_by_customer",
        {"a": "b"},
    )
    assert (rest["amount"], rest["charge"]) == (1500, charge["id"])
    with pytest.raises(StripeInvalidRequestError, match="already been refunded"):
        StripeCreateRefundOperator(task_id="refund", charge=charge["id"]).execute(
            task_context(task_id="again")
        )


def test_the_same_task_instance_gets_its_first_object_back(
    stripe_env: StripeEmulator, logs: Callable[[], str]
) -> None:
    task = StripeCreateChargeOperator(task_id="charge", amount=2000, currency="usd", source="tok_visa")
    first = task.execute(task_context())
    assert "Created Stripe charge " + first["id"] in logs()
    again = task.execute(task_context())  # a retry, or a clear of the task within 24 hours

    assert again["id"] == first["id"]
    assert len(stripe_env.objects("charge")) == 1
    sent = [r for r in stripe_env.requests if r.method == "POST"]
    assert sent[0].idempotency_key == sent[1].idempotency_key
    assert [r.replayed for r in sent] == [False, True]
    assert f"Stripe replayed charge {first['id']}" in logs()

    other = task.execute(task_context(map_index=3))  # another task instance: another key
    assert other["id"] != first["id"]
    assert len(stripe_env.objects("charge")) == 2


def test_idempotency_key_override_is_sent_as_given(stripe_env: StripeEmulator) -> None:
    task = StripeCreateProductOperator(task_id="product", name="Mug", idempotency_key="{{ params.order }}")
    task.idempotency_key = "order-42-product"  # rendered
    product = task.execute(task_context())
    assert only_post(stripe_env).idempotency_key == "order-42-product"
    again = StripeCreateProductOperator(task_id="other", name="Mug", idempotency_key="order-42-product")
    assert again.execute(task_context(task_id="other"))["id"] == product["id"]


def test_changed_parameters_under_the_same_key_fail_with_guidance(stripe_env: StripeEmulator) -> None:
    StripeCreateProductOperator(task_id="product", name="Mug").execute(task_context())
    changed = StripeCreateProductOperator(task_id="product", name="Cup")
    with pytest.raises(StripeIdempotencyError) as caught:
        changed.execute(task_context())
    assert isinstance(caught.value, AirflowFailException)
    assert "idempotency_key" in str(caught.value)
    assert len(stripe_env.objects("product")) == 1


def test_declined_card_fails_without_retries(stripe_env: StripeEmulator) -> None:
    task = StripeCreateChargeOperator(
        task_id="charge", amount=2000, currency="usd", source="tok_chargeDeclined"
    )
    with pytest.raises(StripeCardError) as caught:
        task.execute(task_context())
    assert isinstance(caught.value, AirflowFailException)
    assert caught.value.code == "card_declined"
    assert stripe_env.count() == 1


def find(**kwargs: Any) -> Any:
    return StripeFindCustomerOperator(task_id="find", **kwargs).execute(task_context())


def test_find_customer_by_id_and_by_email(stripe_env: StripeEmulator) -> None:
    hook = StripeHook()
    older = hook.customers.create({"email": "ada@example.com", "name": "Ada (old)"}).object
    newer = hook.customers.create({"email": "ada@example.com", "name": "Ada (new)"}).object
    hook.customers.create({"email": "bob@example.com"})

    assert find(customer_id=older["id"]) == older
    stripe_env.clear_log()
    assert find(email="ada@example.com") == newer
    (listed,) = stripe_env.requests
    assert (listed.method, listed.path, listed.query["email"], listed.query["limit"]) == (
        "GET",
        "/v1/customers",
        "ada@example.com",
        "1",
    )
    stripe_env.clear_log()
    assert find(email="ada@example.com", extra_params={"created": {"lte": newer["created"]}}) == newer
    assert stripe_env.requests[0].query["created"] == {"lte": str(newer["created"])}


def test_find_customer_missing_or_deleted(stripe_env: StripeEmulator, logs: Callable[[], str]) -> None:
    hook = StripeHook()
    gone = hook.customers.create({"email": "gone@example.com"}).object
    hook.request("DELETE", f"/v1/customers/{gone['id']}")

    with pytest.raises(StripeNotFoundError, match="No such customer"):
        find(customer_id="cus_NoSuchCustomer1")
    with pytest.raises(StripeNotFoundError, match=f"Stripe customer {gone['id']} was deleted") as caught:
        find(customer_id=gone["id"])
    assert caught.value.param == "customer_id"
    with pytest.raises(StripeNotFoundError, match="No Stripe customer has the email"):
        find(email="gone@example.com")
    assert issubclass(StripeNotFoundError, AirflowFailException)

    assert find(customer_id="cus_NoSuchCustomer1", fail_if_missing=False) is None
    assert find(customer_id=gone["id"], fail_if_missing="false") is None
    assert find(email="nobody@example.com", fail_if_missing=False) is None
    assert "Returning None (fail_if_missing=False)" in logs()
