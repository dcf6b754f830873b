"""A ``stripe_account`` that is no connected account id fails before anything is sent, naming the
field: at DAG parse time when literal, on the task's first try (no retries) once rendered.

Connected account ids look like ``acct_1032D82eZvKYlo2C`` (https://docs.stripe.com/api/accounts/object);
the same rule checks the connection's ``stripe_account`` extra (airflow_provider_stripe.api.settings).
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.operators.stripe import (
    StripeCreateChargeOperator,
    StripeCreateCustomerOperator,
    StripeCreateProductOperator,
    StripeCreateRefundOperator,
    StripeFindCustomerOperator,
)
from airflow_provider_stripe.polling.cursor import Cursor
from airflow_provider_stripe.sensors.stripe import (
    StripeNewChargeSensor,
    StripeNewEventSensor,
    StripeNewRefundSensor,
)
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from airflow_provider_stripe.triggers.stripe import StripeNewEventsTrigger, StripeNewObjectsTrigger
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_3_PLUS
from tests.connect.conftest import ACCOUNT_A
from tests.dag_runs import write_dag
from tests.operators.test_operator_dags import import_errors, run, use_connection

BAD_ACCOUNTS = ["cus_NffrFeUfNV2Hib", "acct 1Connected", "acct_", 42]

TEMPLATED: dict[str, Any] = {
    "create charge": lambda account: StripeCreateChargeOperator(
        task_id="t", amount=100, currency="usd", source="tok_visa", stripe_account=account
    ),
    "create customer": lambda account: StripeCreateCustomerOperator(task_id="t", stripe_account=account),
    "create product": lambda account: StripeCreateProductOperator(
        task_id="t", name="P", stripe_account=account
    ),
    "create refund": lambda account: StripeCreateRefundOperator(
        task_id="t", charge="ch_1", stripe_account=account
    ),
    "find customer": lambda account: StripeFindCustomerOperator(
        task_id="t", customer_id="cus_1", stripe_account=account
    ),
    "charge sensor": lambda account: StripeNewChargeSensor(task_id="t", stripe_account=account),
    "refund sensor": lambda account: StripeNewRefundSensor(task_id="t", stripe_account=account),
    "event sensor": lambda account: StripeNewEventSensor(
        task_id="t", event_types=["charge.refunded"], stripe_account=account
    ),
    "export": lambda account: StripeToObjectStorageOperator(
        task_id="t", resource="charges", path="file:///tmp/stripe/", stripe_account=account
    ),
}
#: Triggers take rendered values (a sensor renders before it defers; an AssetWatcher has no templates).
TRIGGERS: dict[str, Any] = {
    "objects trigger": lambda account: StripeNewObjectsTrigger(
        path="/v1/charges", cursor=Cursor.starting_at(0).to_json(), stripe_account=account
    ),
    "events trigger": lambda account: StripeNewEventsTrigger(
        cursor=Cursor.starting_at(0).to_json(), event_types="charge.*", stripe_account=account
    ),
}
if AIRFLOW_V_3_3_PLUS:
    from airflow_provider_stripe.triggers.stripe_events import (
        StripeChangeFeedEventTrigger,
        StripeNewChargeEventTrigger,
        StripeNewRefundEventTrigger,
    )

    TRIGGERS["charge event trigger"] = lambda account: StripeNewChargeEventTrigger(stripe_account=account)
    TRIGGERS["refund event trigger"] = lambda account: StripeNewRefundEventTrigger(stripe_account=account)
    TRIGGERS["change feed event trigger"] = lambda account: StripeChangeFeedEventTrigger(
        event_types="customer.*", stripe_account=account
    )

BUILDERS = {**TEMPLATED, **TRIGGERS}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
@pytest.mark.parametrize("account", BAD_ACCOUNTS)
def test_a_literal_bad_account_fails_when_built_naming_the_field(
    stripe_emulator: StripeEmulator, build: Any, account: Any
) -> None:
    with pytest.raises(StripeValidationError, match="Invalid stripe_account") as raised:
        build(account)
    assert raised.value.param == "stripe_account"
    assert stripe_emulator.requests == []


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
@pytest.mark.parametrize("account", [ACCOUNT_A, None, ""])
def test_an_account_id_or_none_is_accepted(stripe_emulator: StripeEmulator, build: Any, account: Any) -> None:
    build(account)
    assert stripe_emulator.requests == []


@pytest.mark.parametrize("build", TEMPLATED.values(), ids=TEMPLATED.keys())
def test_a_template_waits_until_rendered(build: Any) -> None:
    assert "stripe_account" in build("{{ params.account }}").template_fields


def test_a_literal_bad_account_is_a_dag_import_error(stripe_emulator: StripeEmulator) -> None:
    path = write_dag(
        "connect_import_error",
        """
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

        with DAG("connect_import_error", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            StripeNewChargeSensor(task_id="new", stripe_account="cus_NffrFeUfNV2Hib")
        """,
    )
    (error,) = import_errors(path).values()
    assert "Invalid stripe_account: it must be a connected account id like acct_" in error
    assert stripe_emulator.count() == 0


def test_a_rendered_bad_account_fails_the_first_try_and_sends_nothing(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_connection(stripe_emulator, monkeypatch)
    result = run(
        "connect_bad_rendered",
        """
        StripeCreateCustomerOperator(task_id="create", name="Ada", stripe_account="{{ 'acct 1' }}")
        StripeFindCustomerOperator(
            task_id="find", email="ada@example.com", stripe_account="{{ 'cus_NffrFeUfNV2Hib' }}"
        )
        StripeCreateCustomerOperator.partial(task_id="mapped", name="Ada").expand(
            stripe_account=["acct_", "ACCT-1"]
        )
        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewEventSensor

        StripeNewChargeSensor(task_id="poke", stripe_account="{{ 'acct 1' }}", poke_interval=0.1, timeout=5)
        StripeNewEventSensor(
            task_id="deferrable", event_types="charge.*", stripe_account="{{ 'acct 1' }}", deferrable=True,
            poke_interval=0.1, timeout=5,
        )
        """,
        retries=2,
    )
    tasks = [(task, -1) for task in ("create", "find", "poke", "deferrable")] + [("mapped", 0), ("mapped", 1)]
    assert {task: result.task_states[task] for task in tasks} == dict.fromkeys(tasks, "failed")
    assert {task: result.tries[task] for task in tasks} == dict.fromkeys(tasks, 1)
    assert stripe_emulator.count() == 0
