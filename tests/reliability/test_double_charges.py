"""A create-charge task failed or killed at every point around its POST never charges twice.

Each scenario breaks one try of a ``StripeCreateChargeOperator`` task at one point (the task
killed before its request; the request lost before Stripe handled it; Stripe's answer lost after
the charge was made, by a dropped connection, a 500 or a timeout; the task killed after the answer,
before its XCom was written) and lets Airflow's retries (``dag.test()`` runs them in-process) or
the hook's own retries finish the job. Every run must leave exactly one charge in the emulator,
and the successful try's XCom must hold that charge. Running the same run again (a clear: same
run_id, fresh task instances) must not add one, and mapped tasks with different inputs create
one charge each.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_provider_stripe.idempotency import task_idempotency_key
from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import load_dag, run_dag, write_dag
from tests.reliability.figures import record
from tests.waiting import wait_for

RUNS_PER_SCENARIO = 2
LATE_ANSWER = 0.6  # seconds: twice the spike scenario's hook timeout
FIRST_DAY = datetime(2026, 6, 1)

DAG_FILE = '''
from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_stripe.operators.stripe import StripeCreateChargeOperator


class FragileCharge(StripeCreateChargeOperator):
    """Killed around its request on the try the run's conf names (``kill``, ``kill_try``)."""

    def execute(self, context):
        conf = context["dag_run"].conf or {{}}
        doomed = context["ti"].try_number == conf.get("kill_try", 1)
        if doomed and conf.get("kill") == "before_request":
            raise RuntimeError("task killed before its request")
        charge = super().execute(context)
        if doomed and conf.get("kill") == "after_answer":
            raise RuntimeError("task killed after Stripe answered, before the XCom write")
        return charge


with DAG(
    {dag_id!r},
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args={{"retries": 2, "retry_delay": timedelta(0)}},
):
    {tasks}
'''


def charge_dag(dag_id: str, tasks: str) -> Any:
    return load_dag(write_dag(dag_id, DAG_FILE.format(dag_id=dag_id, tasks=tasks)), dag_id)


@dataclass(frozen=True)
class Scenario:
    name: str
    kill: str | None = None
    kill_try: int = 1
    faults: tuple[tuple[Any, bool], ...] = ()  # (status, after_handler) for the run's first request
    extras: dict[str, Any] = field(default_factory=dict)
    spike: bool = False
    expected_tries: int = 2


NO_HOOK_RETRIES = {"max_retries": 0}
SCENARIOS = [
    Scenario("killed before the request", kill="before_request"),
    Scenario("dropped before Stripe handled it", faults=(("drop", False),), extras=NO_HOOK_RETRIES),
    Scenario("500 before Stripe handled it", faults=((500, False),), extras=NO_HOOK_RETRIES),
    Scenario("charge made, answer dropped", faults=(("drop", True),), extras=NO_HOOK_RETRIES),
    Scenario("charge made, answer replaced by a 500", faults=((500, True),), extras=NO_HOOK_RETRIES),
    Scenario(
        "charge made, answer dropped; the hook retries",
        faults=(("drop", True),),
        extras={"max_retries": 2},
        expected_tries=1,
    ),
    Scenario(  # keyed to the request: the create answers late however slow the machine
        "charge made, answer later than the timeout; the hook retries",
        extras={"max_retries": 4, "timeout": 0.3, "backoff_initial": 0.3},
        spike=True,
        expected_tries=1,
    ),
    Scenario("killed after the answer, before the XCom write", kill="after_answer"),
    Scenario(
        "answer dropped on try 1, killed after the answer on try 2",
        faults=(("drop", True),),
        extras=NO_HOOK_RETRIES,
        kill="after_answer",
        kill_try=2,
        expected_tries=3,
    ),
]


def charges_by_id(stripe: StripeEmulator) -> dict[str, dict[str, Any]]:
    return {charge["id"]: charge for charge in stripe.objects("charge")}


def test_every_failure_point_leaves_exactly_one_charge(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch, no_answers: Counter[str]
) -> None:
    stripe = stripe_emulator
    dag_id = "reliability_double_charge"
    dag = charge_dag(
        dag_id,
        'FragileCharge(task_id="charge", amount="{{ 1000 + dag_run.conf.get(\'cents\', 0) }}", '
        'currency="usd", source="tok_visa")',
    )
    day = FIRST_DAY
    runs = clears = 0
    previous: dict[str, Any] = {}
    previous_run_id = ""
    for number, scenario in enumerate(SCENARIOS):
        extras = {"backoff_initial": 0.01, **scenario.extras}
        monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", stripe.connection_json(extra=extras))
        for repeat in range(RUNS_PER_SCENARIO + 1):
            clear = repeat == RUNS_PER_SCENARIO  # the last one runs the previous run again
            if not clear:
                day += timedelta(days=1)
            conf = {"cents": number, "kill": scenario.kill, "kill_try": scenario.kill_try}
            before = charges_by_id(stripe)
            logged_before = len(stripe.requests)
            for status, after_handler in scenario.faults:
                stripe.fail_next(1, status=status, after_handler=after_handler)
            timeouts_before = no_answers["timed out"]
            if scenario.spike:  # the run's first create answers after the hook's timeout, then none
                stripe.slow_next(1, LATE_ANSWER, method="POST", path="/v1/charges")
            result = run_dag(dag, day, run_conf=conf)
            wait_for("the late answer to be logged", lambda: stripe.in_flight == 0)
            after = charges_by_id(stripe)
            made = [charge_id for charge_id in after if charge_id not in before]
            where = f"{scenario.name} ({'clear' if clear else f'run {repeat + 1}'})"
            if scenario.spike:
                assert no_answers["timed out"] > timeouts_before, f"{where}: nothing timed out"
            assert result.state_of("charge") == "success", where
            sent = stripe.requests[logged_before:]
            keys = {r.idempotency_key for r in sent if r.method == "POST"}
            assert keys == {task_idempotency_key(dag_id, "charge", result.run_id)}, where
            xcom = result.xcom("charge")
            if clear:
                clears += 1
                assert made == [], f"{where}: the clear charged again"
                assert xcom == previous, where
                assert result.run_id == previous_run_id, "not a clear: another run_id"
            else:
                runs += 1
                assert len(made) == 1, f"{where}: {len(made)} charges"
                assert xcom["id"] == made[0], where
                assert after[made[0]]["amount"] == 1000 + number
                assert result.tries[("charge", -1)] == scenario.expected_tries, where
                previous = xcom
                previous_run_id = result.run_id
    total = len(stripe.objects("charge"))
    assert total == len(SCENARIOS) * RUNS_PER_SCENARIO
    record(
        "create-charge retried at every failure point",
        f"{len(SCENARIOS)} failure points ({', '.join(s.name for s in SCENARIOS)})",
        f"{runs} runs + {clears} clears of a finished run, "
        f"{stripe.count('POST', '/v1/charges')} charge POSTs, "
        f"{sum(r.replayed for r in stripe.requests)} idempotent replays",
        f"{total} charges for {runs} runs: 0 missing, 0 doubled",
    )


def test_mapped_creates_with_different_inputs_make_one_charge_each(
    stripe_emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    stripe = stripe_emulator
    extras = {"backoff_initial": 0.01, "max_retries": 0}
    monkeypatch.setenv("AIRFLOW_CONN_STRIPE_DEFAULT", stripe.connection_json(extra=extras))
    dag = charge_dag(
        "reliability_mapped_charges",
        'FragileCharge.partial(task_id="charges", currency="usd", source="tok_visa")'
        ".expand(amount=[1000, 2000, 3000])",
    )
    day = FIRST_DAY
    # One answer lost (its instance retries) and every instance killed after its answer on try 1.
    stripe.fail_next(1, status="drop", after_handler=True)
    first = run_dag(dag, day, run_conf={"kill": "after_answer"})
    again = run_dag(dag, day, run_conf={"kill": "after_answer"})  # a clear of the whole run
    charges = stripe.objects("charge")
    assert sorted(c["amount"] for c in charges) == [1000, 2000, 3000]
    for result in (first, again):
        assert result.state == "success", result.task_states
        xcoms = [result.xcom("charges", map_index=i) for i in range(3)]
        assert [x["amount"] for x in xcoms] == [1000, 2000, 3000]
        assert {x["id"] for x in xcoms} == {c["id"] for c in charges}
    keys = {r.idempotency_key for r in stripe.requests if r.method == "POST"}
    assert len(keys) == 3  # one per map index, the same on every try and on the clear
    record(
        "mapped create-charge (3 map indexes), killed after each answer, one answer lost, then cleared",
        "3 mapped charges with different amounts",
        f"2 runs (run + clear), {stripe.count('POST', '/v1/charges')} charge POSTs",
        f"{len(charges)} charges for 3 inputs: 0 missing, 0 doubled",
    )
