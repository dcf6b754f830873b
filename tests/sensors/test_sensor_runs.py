"""The new-charge / new-refund sensors in real DAG runs (dag.test) against the emulator.

Every scenario drives consecutive runs of one DAG and checks the delivery contract: each object
created after the start is delivered once, oldest first, by the successful runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow_provider_stripe.testing import StripeEmulator
from tests.dag_runs import RunResult, load_dag, run_dag, write_dag
from tests.waiting import wait_for

DAY = timedelta(days=1)
FIRST_DAY = datetime(2026, 1, 1)


def charge_watch_dag(
    dag_id: str, start_from: int, sensor: str = "StripeNewChargeSensor", **options: Any
) -> Any:
    settings = {"poke_interval": 0.1, "timeout": 5, "mode": "poke", **options}
    arguments = ", ".join(f"{name}={value!r}" for name, value in settings.items())
    path = write_dag(
        dag_id,
        f"""
        from datetime import timedelta

        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewRefundSensor


        class CrashAfterFetch(StripeNewChargeSensor):
            \"\"\"Dies on its first try after Stripe answered, before the run could finish.\"\"\"

            def poke(self, context):
                found = super().poke(context)
                if found and context["ti"].try_number == 1 and "crash" in (context["dag_run"].conf or {{}}):
                    raise RuntimeError("worker died between the fetch and the XCom write")
                return found


        with DAG(
            {dag_id!r},
            schedule=None,
            start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
            catchup=False,
            default_args={{"retries": 1, "retry_delay": timedelta(0)}},
        ):
            {sensor}(task_id="new", start_from={start_from}, {arguments})
        """,
    )
    return load_dag(path, dag_id)


def delivered(result: RunResult, task_id: str = "new", map_index: int = -1) -> list[str]:
    assert result.state_of(task_id, map_index) == "success", result.task_states
    return [obj["id"] for obj in result.xcom(task_id, map_index=map_index)]


def create_charges(stripe: StripeEmulator, count: int, **params: Any) -> list[str]:
    import requests

    ids = []
    with requests.Session() as session:
        session.auth = (stripe.api_key, "")
        for _ in range(count):
            body = {"amount": 500, "currency": "usd", **params}
            if "customer" not in body:  # a customer is charged through its own default source
                body["source"] = "tok_visa"
            answer = session.post(f"{stripe.base_url}/v1/charges", data=body, timeout=10)
            answer.raise_for_status()
            ids.append(answer.json()["id"])
    return ids


def test_consecutive_runs_deliver_every_charge_once(stripe_env: StripeEmulator) -> None:
    start = int(stripe_env.clock.now())
    dag = charge_watch_dag("charges_consecutive", start, max_batch=100)
    day = FIRST_DAY

    def next_run(**kwargs: Any) -> RunResult:
        nonlocal day
        day += DAY
        return run_dag(dag, day, **kwargs)

    # 250 charges inside one second: three runs, 100 + 100 + 50, oldest first.
    stripe_env.clock.advance(1)
    burst = create_charges(stripe_env, 250)
    runs = [delivered(next_run()) for _ in range(3)]
    assert [len(r) for r in runs] == [100, 100, 50]
    assert runs[0] + runs[1] + runs[2] == burst

    # A charge that shows up in the list late (inside the lookback) still comes, once.
    stripe_env.clock.advance(1)
    stripe_env.visibility_delay = 30
    late = create_charges(stripe_env, 1)
    stripe_env.visibility_delay = 0
    stripe_env.clock.advance(1)
    on_time = create_charges(stripe_env, 1)
    assert delivered(next_run()) == on_time
    stripe_env.clock.advance(31)
    assert delivered(next_run()) == late

    # A 429 and a 500 in the middle of pagination: the hook retries, nothing is lost.
    stripe_env.clock.advance(1)
    backlog = create_charges(stripe_env, 150)
    stripe_env.fail_next(1, status=429, after=1)
    stripe_env.fail_next(1, status=500, after=0)
    stripe_env.clear_log()
    result = next_run()
    assert delivered(result) == backlog[:100]
    assert [r.status for r in stripe_env.requests][:4] == [200, 429, 500, 200]
    assert delivered(next_run()) == backlog[100:]

    # An idle run: nothing new, the sensor times out (its one try), no cursor moves.
    stripe_env.clear_log()
    idle = next_run()
    assert idle.state_of("new") in ("failed", "up_for_retry", "skipped")
    assert all(r.path == "/v1/charges" for r in stripe_env.requests)


def test_sensor_retry_redelivers_its_batch(stripe_env: StripeEmulator) -> None:
    start = int(stripe_env.clock.now())
    dag = charge_watch_dag("charges_retry", start, sensor="CrashAfterFetch")
    stripe_env.clock.advance(1)
    first = create_charges(stripe_env, 3)
    result = run_dag(dag, FIRST_DAY + DAY, run_conf={"crash": True})
    assert result.tries[("new", -1)] == 2
    assert delivered(result) == first
    stripe_env.clock.advance(1)
    second = create_charges(stripe_env, 2)
    assert delivered(run_dag(dag, FIRST_DAY + 2 * DAY)) == second


def test_cleared_run_replays_its_batch(stripe_env: StripeEmulator) -> None:
    start = int(stripe_env.clock.now())
    dag = charge_watch_dag("charges_cleared", start)
    stripe_env.clock.advance(1)
    first = create_charges(stripe_env, 2)
    assert delivered(run_dag(dag, FIRST_DAY + DAY)) == first
    stripe_env.clock.advance(1)
    second = create_charges(stripe_env, 2)
    assert delivered(run_dag(dag, FIRST_DAY + 2 * DAY)) == second

    # Clearing the second run wipes its XComs: it reads the first run's cursor and replays.
    replay = run_dag(dag, FIRST_DAY + 2 * DAY)
    assert delivered(replay) == second  # at-least-once on replay, asserted as such
    stripe_env.clock.advance(1)
    third = create_charges(stripe_env, 1)
    assert delivered(run_dag(dag, FIRST_DAY + 3 * DAY)) == third


def test_mapped_sensor_keeps_one_cursor_per_customer(stripe_env: StripeEmulator) -> None:
    import requests

    customers = []
    for email in ("a@example.com", "b@example.com"):
        answer = requests.post(
            f"{stripe_env.base_url}/v1/customers",
            data={"email": email, "source": "tok_visa"},
            auth=(stripe_env.api_key, ""),
            timeout=10,
        )
        customers.append(answer.json()["id"])
    start = int(stripe_env.clock.now())
    path = write_dag(
        "charges_mapped",
        f"""
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

        with DAG("charges_mapped", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            StripeNewChargeSensor.partial(
                task_id="new", start_from={start}, poke_interval=0.1, timeout=5, mode="poke"
            ).expand(customer={customers!r})
        """,
    )
    dag = load_dag(path, "charges_mapped")
    stripe_env.clock.advance(1)
    a1 = create_charges(stripe_env, 2, customer=customers[0])
    b1 = create_charges(stripe_env, 1, customer=customers[1])
    first = run_dag(dag, FIRST_DAY + DAY)
    assert delivered(first, map_index=0) == a1
    assert delivered(first, map_index=1) == b1
    stripe_env.clock.advance(1)
    a2 = create_charges(stripe_env, 1, customer=customers[0])
    b2 = create_charges(stripe_env, 3, customer=customers[1])
    second = run_dag(dag, FIRST_DAY + 2 * DAY)
    assert delivered(second, map_index=0) == a2
    assert delivered(second, map_index=1) == b2


def test_reschedule_mode_waits_across_reschedules_then_delivers(stripe_env: StripeEmulator) -> None:
    import threading

    start = int(stripe_env.clock.now())
    dag = charge_watch_dag("charges_reschedule", start, mode="reschedule", poke_interval=1, timeout=60)
    created: list[str] = []

    def create_after_the_first_empty_poke() -> None:
        wait_for("the first poke", lambda: stripe_env.count("GET", "/v1/charges"))
        stripe_env.clock.advance(1)
        created.extend(create_charges(stripe_env, 2))

    stripe_env.clear_log()
    worker = threading.Thread(target=create_after_the_first_empty_poke)
    worker.start()
    result = run_dag(dag, FIRST_DAY + DAY)
    worker.join()
    assert delivered(result) == created
    polls = stripe_env.count("GET", "/v1/charges")
    assert polls >= 2, "the sensor should have been rescheduled at least once before the charges came"
