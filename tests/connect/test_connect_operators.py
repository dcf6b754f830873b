"""The operators act for connected accounts: one connection, ``.expand(stripe_account=[...])``.

Stripe Connect: a platform acts for a connected account by sending ``Stripe-Account: acct_...``
(https://docs.stripe.com/connect/authentication); idempotency keys are scoped to the account they
were sent for (https://docs.stripe.com/api/idempotent_requests). The official SDK, with
``stripe_account`` in its request options, checks what ended up in each account.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from airflow_provider_stripe.idempotency import task_idempotency_key
from airflow_provider_stripe.operators.stripe import StripeCreateCustomerOperator, StripeFindCustomerOperator
from airflow_provider_stripe.sensors.stripe import StripeNewRefundSensor
from airflow_provider_stripe.testing import StripeEmulator
from tests.connect.conftest import ACCOUNT_A, ACCOUNT_B
from tests.dag_runs import RunResult
from tests.operators.test_operator_dags import posts, run, use_connection


def customers_of(client: stripe.StripeClient, account: str | None) -> list[str]:
    options: Any = {"stripe_account": account} if account else {}
    return [customer.id for customer in client.v1.customers.list(options=options).data]


def run_mapped_create(dag_id: str) -> RunResult:
    # Expanded over stripe_account, not email: on Airflow 2.11 BaseOperator takes an `email` too.
    return run(
        dag_id,
        f"""
        StripeCreateCustomerOperator.partial(task_id="customer", name="Ada").expand(
            stripe_account=[{ACCOUNT_A!r}, {ACCOUNT_B!r}]
        )
        """,
        retries=1,
    )


def test_mapped_create_makes_one_customer_per_account_and_retries_and_reruns_replay(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, client: stripe.StripeClient
) -> None:
    # The hook does not retry: the first POST's answer is lost after Stripe created the customer,
    # that try fails, and Airflow's retry sends the same key again.
    use_connection(stripe_emulator, monkeypatch, max_retries=0)
    stripe_emulator.fail_next(1, status="drop", after_handler=True)
    dag_id = "connect_create_customers"
    first = run_mapped_create(dag_id)
    assert {first.state_of("customer", i) for i in (0, 1)} == {"success"}
    assert sorted(first.tries[("customer", i)] for i in (0, 1)) == [1, 2]  # one index was retried

    a, b = customers_of(client, ACCOUNT_A), customers_of(client, ACCOUNT_B)
    assert (len(a), len(b)) == (1, 1)
    assert customers_of(client, None) == []  # nothing on the platform itself
    assert [first.xcom("customer", map_index=i)["id"] for i in (0, 1)] == [a[0], b[0]]

    # The key is the task instance's: it differs between the accounts through map_index alone,
    # and a retry of one index sends that index's key again (replayed, not created twice).
    keys = {i: task_idempotency_key(dag_id, "customer", first.run_id, i) for i in (0, 1)}
    sent = posts(stripe_emulator, "/v1/customers")
    assert len(sent) == 3
    assert {request.idempotency_key for request in sent} == set(keys.values())
    assert sorted(request.replayed for request in sent) == [False, False, True]

    # Running the same run again (a clear) replays both: still one customer per account.
    again = run_mapped_create(dag_id)
    assert [again.xcom("customer", map_index=i)["id"] for i in (0, 1)] == [a[0], b[0]]
    resent = posts(stripe_emulator, "/v1/customers")[3:]
    assert sorted((r.idempotency_key, r.replayed) for r in resent) == sorted(
        (key, True) for key in keys.values()
    )
    assert (customers_of(client, ACCOUNT_A), customers_of(client, ACCOUNT_B)) == (a, b)


def test_the_task_account_overrides_the_connection_extra(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, client: stripe.StripeClient
) -> None:
    use_connection(stripe_emulator, monkeypatch, stripe_account=ACCOUNT_B)
    result = run(
        "connect_override",
        f"""
        StripeCreateCustomerOperator(task_id="mine", name="Ada", stripe_account={ACCOUNT_A!r})
        StripeCreateCustomerOperator(task_id="connections", name="Bob")
        StripeCreateCustomerOperator(task_id="blank", name="Cy", stripe_account="{{{{ '' }}}}")
        StripeFindCustomerOperator(
            task_id="find", customer_id="{{{{ ti.xcom_pull('mine')['id'] }}}}", stripe_account={ACCOUNT_A!r}
        )
        """,
    )
    assert customers_of(client, ACCOUNT_A) == [result.xcom("mine")["id"]]
    # No account on the task (or an empty template) leaves the connection's extra in charge.
    assert set(customers_of(client, ACCOUNT_B)) == {
        result.xcom("connections")["id"],
        result.xcom("blank")["id"],
    }
    assert result.xcom("find")["id"] == result.xcom("mine")["id"]


def test_lineage_names_the_task_account_not_the_connections(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenLineage namespaces are ``stripe://<account>`` (see airflow_provider_stripe.lineage)."""
    pytest.importorskip("airflow.providers.openlineage")
    use_connection(stripe_emulator, monkeypatch, stripe_account=ACCOUNT_B)
    mine = StripeCreateCustomerOperator(task_id="c", name="Ada", stripe_account=ACCOUNT_A)
    lineage = mine.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.outputs] == [(f"stripe://{ACCOUNT_A}", "customers")]
    connections = StripeFindCustomerOperator(task_id="f", email="ada@example.com")
    lineage = connections.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [(f"stripe://{ACCOUNT_B}", "customers")]
    sensor = StripeNewRefundSensor(task_id="s", stripe_account=ACCOUNT_A)
    lineage = sensor.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [(f"stripe://{ACCOUNT_A}", "refunds")]
    assert stripe_emulator.count() == 0
