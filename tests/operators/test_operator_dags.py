"""The operators in real DAG runs (dag.test) against the emulator: XCom, templates, retries, mapping."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_stripe.hooks.stripe import StripeHook
from airflow_provider_stripe.idempotency import task_idempotency_key
from airflow_provider_stripe.testing import RecordedRequest, StripeEmulator
from tests.dag_runs import AIRFLOW_3, RunResult, load_dag, run_dag, write_dag

LOGICAL_DATE = datetime(2026, 1, 1)


def run(dag_id: str, tasks: str, *, retries: int = 2) -> RunResult:
    """Write a DAG file holding ``tasks`` (operators imported, retries without delay), and run it."""
    header = f"""\
from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_stripe.operators.stripe import (
    StripeCreateChargeOperator,
    StripeCreateCustomerOperator,
    StripeCreateProductOperator,
    StripeCreateRefundOperator,
    StripeFindCustomerOperator,
)

with DAG(
    {dag_id!r},
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args={{"retries": {retries}, "retry_delay": timedelta(0)}},
):
"""
    path = write_dag(dag_id, header + textwrap.indent(textwrap.dedent(tasks), "    "))
    return run_dag(load_dag(path, dag_id), LOGICAL_DATE)


def posts(emulator: StripeEmulator, path: str) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "POST" and r.path == path]


def use_connection(emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_STRIPE_DEFAULT", emulator.connection_json(extra={"backoff_initial": 0.01, **extra})
    )


def test_every_action_in_one_run_feeding_each_other_through_xcom(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_connection(stripe_emulator, monkeypatch)
    dag_id = "ops_all_actions"
    result = run(
        dag_id,
        """
        customer = StripeCreateCustomerOperator(
            task_id="create_customer",
            email="ada@example.com",
            name="Ada Lovelace",
            extra_params={"source": "tok_visa"},  # a default source: Stripe charges no PaymentMethod
            metadata={"run": "{{ run_id }}"},
        )
        product = StripeCreateProductOperator(
            task_id="create_product", name="Mug", idempotency_key="product-{{ dag.dag_id }}-{{ ds_nodash }}"
        )
        charge = StripeCreateChargeOperator(
            task_id="charge",
            customer="{{ ti.xcom_pull(task_ids='create_customer')['id'] }}",
            amount="{{ 100 * 20 }}",
            currency="USD",
            description="{{ ti.xcom_pull(task_ids='create_product')['name'] }}",
        )
        refund = StripeCreateRefundOperator(
            task_id="refund",
            charge="{{ ti.xcom_pull(task_ids='charge')['id'] }}",
            amount="{{ 5 * 100 }}",
            reason="requested_by_customer",
        )
        by_id = StripeFindCustomerOperator(
            task_id="find_by_id", customer_id="{{ ti.xcom_pull(task_ids='create_customer')['id'] }}"
        )
        by_email = StripeFindCustomerOperator(task_id="find_by_email", email="ada@example.com")
        mapped = StripeCreateProductOperator.partial(task_id="mapped_products").expand(name=["Cup", "Plate"])
        [customer, product] >> charge >> refund
        customer >> [by_id, by_email]
        """,
    )
    assert result.state == "success", result.task_states

    customer, charge, refund = (result.xcom(task) for task in ("create_customer", "charge", "refund"))
    assert [c["id"] for c in stripe_emulator.objects("customer")] == [customer["id"]]
    assert customer["metadata"] == {"run": result.run_id}
    assert (charge["customer"], charge["amount"], charge["currency"]) == (customer["id"], 2000, "usd")
    assert charge["description"] == "Mug"
    assert [c["id"] for c in stripe_emulator.objects("charge")] == [charge["id"]]
    assert (refund["charge"], refund["amount"], refund["reason"]) == (
        charge["id"],
        500,
        "requested_by_customer",
    )
    assert [r["id"] for r in stripe_emulator.objects("refund")] == [refund["id"]]
    assert result.xcom("find_by_id") == customer
    assert result.xcom("find_by_email")["id"] == customer["id"]

    # Each create sent the key of its task instance; the override was sent as rendered.
    for task, path in (
        ("create_customer", "/v1/customers"),
        ("charge", "/v1/charges"),
        ("refund", "/v1/refunds"),
    ):
        (sent,) = posts(stripe_emulator, path)
        assert sent.idempotency_key == task_idempotency_key(dag_id, task, result.run_id, -1)
    product_keys = {r.form["name"]: r.idempotency_key for r in posts(stripe_emulator, "/v1/products")}
    assert product_keys == {
        "Mug": f"product-{dag_id}-20260101",
        "Cup": task_idempotency_key(dag_id, "mapped_products", result.run_id, 0),
        "Plate": task_idempotency_key(dag_id, "mapped_products", result.run_id, 1),
    }
    # Two mapped instances, two inputs: two products.
    mapped = [result.xcom("mapped_products", map_index=index) for index in (0, 1)]
    assert [p["name"] for p in mapped] == ["Cup", "Plate"]
    assert sorted(p["name"] for p in stripe_emulator.objects("product")) == ["Cup", "Mug", "Plate"]


def test_bad_rendered_input_fails_on_the_first_try_and_sends_nothing(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_connection(stripe_emulator, monkeypatch)
    result = run(
        "ops_bad_input",
        """
        StripeCreateChargeOperator(
            task_id="decimal_amount", amount="{{ '1.5' }}", currency="usd", source="tok_visa"
        )
        StripeCreateChargeOperator(
            task_id="card_without_customer", amount=100, currency="usd", source="{{ 'card_1Mvoi' }}"
        )
        StripeCreateProductOperator(task_id="blank_name", name="{{ '   ' }}")
        StripeCreateRefundOperator(task_id="bad_reason", charge="ch_1", reason="{{ 'changed_mind' }}")
        StripeFindCustomerOperator(task_id="nothing_to_find", email="{{ dag_run.conf.get('email', '') }}")
        StripeCreateChargeOperator.partial(task_id="mapped", currency="usd", source="tok_visa").expand(
            amount=[19.99, 0]
        )
        """,
        retries=2,
    )
    tasks = [
        (task, -1)
        for task in ("decimal_amount", "card_without_customer", "blank_name", "bad_reason", "nothing_to_find")
    ] + [("mapped", 0), ("mapped", 1)]
    assert {task: result.task_states[task] for task in tasks} == dict.fromkeys(tasks, "failed")
    assert {task: result.tries[task] for task in tasks} == dict.fromkeys(tasks, 1)
    assert stripe_emulator.count() == 0


def import_errors(path: Path) -> dict[str, str]:
    if AIRFLOW_3:
        from airflow.dag_processing.dagbag import DagBag

        return dict(DagBag(str(path)).import_errors)
    from airflow.models.dagbag import DagBag as LegacyDagBag

    return dict(LegacyDagBag(str(path), include_examples=False).import_errors)


def test_a_literal_bad_value_is_a_dag_import_error(stripe_emulator: StripeEmulator) -> None:
    path = write_dag(
        "ops_import_error",
        """
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.operators.stripe import StripeCreateChargeOperator

        with DAG("ops_import_error", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            StripeCreateChargeOperator(task_id="charge", amount=19.99, currency="usd", source="tok_visa")
        """,
    )
    (error,) = import_errors(path).values()
    assert "Invalid amount: it must be a whole number" in error
    assert stripe_emulator.count() == 0


def test_a_retried_create_gets_the_first_object_back(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hook does not retry, so the lost answer fails the first try and Airflow retries the task.
    use_connection(stripe_emulator, monkeypatch, max_retries=0)
    stripe_emulator.fail_next(1, status="drop", after_handler=True)
    dag_id = "ops_retried_create"
    result = run(
        dag_id,
        """
        StripeCreateChargeOperator(task_id="charge", amount=2000, currency="usd", source="tok_visa")
        """,
        retries=1,
    )
    assert result.state_of("charge") == "success"
    assert result.tries[("charge", -1)] == 2
    (charge,) = stripe_emulator.objects("charge")
    assert result.xcom("charge")["id"] == charge["id"]
    first, second = posts(stripe_emulator, "/v1/charges")
    assert (
        first.idempotency_key
        == second.idempotency_key
        == task_idempotency_key(dag_id, "charge", result.run_id)
    )
    assert (first.replayed, second.replayed) == (False, True)


def test_transient_errors_use_airflow_retries_and_card_errors_do_not(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two 500s outlast the hook's one retry: the first try fails, Airflow's retry succeeds.
    use_connection(stripe_emulator, monkeypatch, max_retries=1)
    stripe_emulator.fail_next(2, status=500)
    result = run(
        "ops_transient_and_declined",
        """
        customer = StripeCreateCustomerOperator(task_id="create_customer", email="ada@example.com")
        declined = StripeCreateChargeOperator(
            task_id="declined", amount=2000, currency="usd", source="tok_chargeDeclined"
        )
        customer >> declined
        """,
        retries=1,
    )
    assert result.state_of("create_customer") == "success"
    assert result.tries[("create_customer", -1)] == 2
    sent = posts(stripe_emulator, "/v1/customers")
    assert [r.status for r in sent] == [500, 500, 200]
    assert len({r.idempotency_key for r in sent}) == 1
    assert len(stripe_emulator.objects("customer")) == 1

    assert result.state_of("declined") == "failed"
    assert result.tries[("declined", -1)] == 1
    assert [r.status for r in posts(stripe_emulator, "/v1/charges")] == [402]


def test_find_customer(stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(stripe_emulator, monkeypatch)
    hook = StripeHook()
    older = hook.customers.create({"email": "ada@example.com", "name": "Ada (old)"}).object
    newer = hook.customers.create({"email": "ada@example.com", "name": "Ada (new)"}).object
    gone = hook.customers.create({"email": "gone@example.com"}).object
    hook.request("DELETE", f"/v1/customers/{gone['id']}")
    stripe_emulator.clear_log()

    result = run(
        "ops_find_customer",
        f"""
        StripeFindCustomerOperator(task_id="by_id", customer_id={older["id"]!r})
        StripeFindCustomerOperator(task_id="by_email", email="ada@example.com")
        StripeFindCustomerOperator(task_id="missing", customer_id="cus_NoSuchCustomer1")
        StripeFindCustomerOperator(task_id="deleted", customer_id={gone["id"]!r})
        StripeFindCustomerOperator(task_id="missing_email", email="nobody@example.com")
        StripeFindCustomerOperator(
            task_id="missing_ok", customer_id="cus_NoSuchCustomer1", fail_if_missing=False
        )
        StripeFindCustomerOperator(task_id="deleted_ok", customer_id={gone["id"]!r}, fail_if_missing="false")
        """,
        retries=2,
    )
    assert result.xcom("by_id") == older
    assert result.xcom("by_email") == newer
    for task in ("missing", "deleted", "missing_email"):
        assert result.state_of(task) == "failed"
        assert result.tries[(task, -1)] == 1
    for task in ("by_id", "by_email", "missing_ok", "deleted_ok"):
        assert result.state_of(task) == "success"
    assert result.xcom("missing_ok") is None
    assert result.xcom("deleted_ok") is None
    assert stripe_emulator.count("POST") == 0


def test_customers_mapped_over_emails_on_airflow_3_and_refused_by_airflow_2_11(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``email`` is also BaseOperator's alert address. Airflow 3 maps it for the operator; Airflow 2.11
    refuses to map it at all ("unmappable or already specified argument: email", from .expand at
    parse time and from .expand_kwargs at run time). docs/operators.md says so."""
    use_connection(stripe_emulator, monkeypatch)
    tasks = """
        StripeCreateCustomerOperator.partial(task_id="create").expand(
            email=["ada@example.com", "grace@example.com"]
        )
        """
    if not AIRFLOW_3:
        with pytest.raises(AssertionError, match="unmappable or already specified argument: email"):
            run("customers_by_email", tasks)
        assert stripe_emulator.requests == []
        return
    result = run("customers_by_email", tasks)
    assert result.state == "success", result.task_states
    assert sorted(c["email"] for c in stripe_emulator.objects("customer")) == [
        "ada@example.com",
        "grace@example.com",
    ]
