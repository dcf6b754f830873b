"""Scheduled checkout: every 15 minutes, sell a mug.

**How it starts:** on a schedule (every 15 minutes, no catch-up of missed intervals).

**What it does:** creates a product and a customer (with a test card), charges the customer
20.00 USD for the product, then refunds 5.00 USD of it. Each step reads what the step before
created through XCom.

It uses the connection ``stripe_default``: the local emulator in ``scripts/demo``, or your Stripe
account. Against Stripe, use a **test** key (``sk_test_...``): every run creates real test-mode
objects in your account (``tok_visa`` is a Stripe test card and is refused in live mode).

Retries are safe: each create sends an ``Idempotency-Key`` derived from the task instance, so a
retried or cleared task gets the object its first try created instead of charging twice.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_stripe.operators.stripe import (
    StripeCreateChargeOperator,
    StripeCreateCustomerOperator,
    StripeCreateProductOperator,
    StripeCreateRefundOperator,
)

with DAG(
    dag_id="stripe_scheduled_checkout",
    schedule="*/15 * * * *",  # or timedelta(minutes=15)
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,  # start with the next 15 minutes, not one run per interval since start_date
    max_active_runs=1,
    # Retrying a create is safe (see above), so transient Stripe errors get two more tries.
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["stripe", "example"],
    doc_md=__doc__,
) as dag:
    create_product = StripeCreateProductOperator(
        task_id="create_product",
        stripe_conn_id="stripe_default",
        name="Airflow mug",
        description="A mug for people who schedule their coffee.",
        metadata={"sku": "MUG-001"},
    )

    create_customer = StripeCreateCustomerOperator(
        task_id="create_customer",
        stripe_conn_id="stripe_default",
        name="Jenny Rosen",
        email="jenny.rosen@example.com",
        # Any other documented Stripe parameter goes in extra_params. `source` saves a card as the
        # customer's default: tok_visa is Stripe's test Visa card, accepted in test mode only.
        extra_params={"source": "tok_visa"},
        # Every parameter is templated: tie the Stripe object to the Airflow run that made it.
        metadata={"airflow_run_id": "{{ run_id }}"},
    )

    # [START howto_operator_stripe_create_charge]
    charge_customer = StripeCreateChargeOperator(
        task_id="charge_customer",
        stripe_conn_id="stripe_default",
        amount=2000,  # in the currency's smallest unit: 2000 cents = 20.00 USD
        currency="usd",
        # Upstream results come from XCom: each operator returns the Stripe object it created.
        customer="{{ ti.xcom_pull(task_ids='create_customer')['id'] }}",
        description="One {{ ti.xcom_pull(task_ids='create_product')['name'] }}",
        metadata={"product_id": "{{ ti.xcom_pull(task_ids='create_product')['id'] }}"},
    )
    # [END howto_operator_stripe_create_charge]

    # [START howto_operator_stripe_create_refund]
    refund_part = StripeCreateRefundOperator(
        task_id="refund_part",
        stripe_conn_id="stripe_default",
        charge="{{ ti.xcom_pull(task_ids='charge_customer')['id'] }}",
        amount=500,  # 5.00 USD of the 20.00; leave amount out to refund everything
        reason="requested_by_customer",
    )
    # [END howto_operator_stripe_create_refund]

    # Templates do not make dependencies by themselves: say which tasks come first.
    [create_product, create_customer] >> charge_customer >> refund_part
