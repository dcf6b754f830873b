"""Runs that end without delivering (a timeout, a soft fail) still save how far they looked.

After a 1,000-charge burst that an earlier run delivered, the first idle run lists the burst's
pages once (the burst may hold charges that showed up late, until it is older than the lookback),
and saves its floor on Stripe's clock; every later idle run is one request a poke, in poke,
reschedule and deferrable mode. Issue 21: before, every idle run listed the burst again.

Real Airflow runs (dag.test) against the emulator over HTTP; requests counted in its log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_3_PLUS as RUN_STATE
from tests.dag_runs import RunResult, load_dag, run_dag, write_dag
from tests.sensors.test_sensor_runs import create_charges, delivered

LOOKBACK = 300
BURST = 1000
BURST_PAGES = BURST // 100
FIRST_DAY = datetime(2026, 3, 1)

MODES = {
    "poke": {"mode": "poke", "poke_interval": 0.1, "timeout": 0.5},
    "reschedule": {"mode": "reschedule", "poke_interval": 0.1, "timeout": 0.5},
    "deferrable": {"deferrable": True, "poke_interval": 0.1, "timeout": 0.5},
}


def idle_watch_dag(dag_id: str, start_from: int, **options: Any) -> Any:
    settings = {"lookback": LOOKBACK, "max_batch": 100, **options}
    arguments = ", ".join(f"{name}={value!r}" for name, value in settings.items())
    path = write_dag(
        dag_id,
        f"""
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor

        with DAG({dag_id!r}, schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            StripeNewChargeSensor(task_id="new", start_from={start_from}, soft_fail=True, {arguments})
        """,
    )
    return load_dag(path, dag_id)


class Runs:
    """Consecutive runs of one DAG, one logical day apart."""

    def __init__(self, dag: Any) -> None:
        self.dag = dag
        self.day = FIRST_DAY

    def next(self) -> RunResult:
        self.day += timedelta(days=1)
        return run_dag(self.dag, self.day)


def polls_and_requests(stripe: StripeEmulator) -> tuple[int, int]:
    """Polls (each lists from the floor once: a first page, with no ``starting_after``; a walk's
    ``ending_before`` request is not one) and list requests, since the log was cleared."""
    listed = [r for r in stripe.requests if r.method == "GET" and r.path == "/v1/charges"]
    firsts = [r for r in listed if "starting_after" not in r.query and "ending_before" not in r.query]
    return len(firsts), len(listed)


def idle_run(stripe: StripeEmulator, runs: Runs) -> tuple[int, int]:
    stripe.clear_log()
    result = runs.next()
    assert result.state_of("new") == "skipped", result.task_states  # soft_fail: the timeout skips
    return polls_and_requests(stripe)


@pytest.mark.parametrize("mode", list(MODES))
def test_idle_runs_after_a_burst_list_it_once(stripe_env: StripeEmulator, mode: str) -> None:
    stripe_env.rate_limit(None)
    start = int(stripe_env.clock.now())
    runs = Runs(idle_watch_dag(f"idle_after_burst_{mode}", start, **MODES[mode]))
    stripe_env.clock.advance(1)
    burst = create_charges(stripe_env, BURST)
    got: list[str] = []
    while len(got) < BURST:
        got += delivered(runs.next())
    assert got == burst
    stripe_env.clock.advance(LOOKBACK + 1)  # the burst is now older than the lookback

    polls, requests = idle_run(stripe_env, runs)
    assert polls >= 1
    # The burst's pages once (its ids are remembered until the floor passes them), then a request a
    # poke. The delivering run's batch was full, so the first poke also walks once (ending_before).
    # Airflow before 3.3 has no task state store, and clears a run's XComs at each reschedule: there
    # the first idle run lists the burst at each poke (its last poke saves the floor for the next run).
    once = mode != "reschedule" or RUN_STATE
    assert requests <= polls + (BURST_PAGES if once else polls * BURST_PAGES), (polls, requests)
    for _ in range(2):
        polls, requests = idle_run(stripe_env, runs)
        assert requests == polls, (polls, requests)

    # A run with new charges delivers exactly them, after the timed-out runs.
    stripe_env.clock.advance(1)
    new = create_charges(stripe_env, 3)
    assert delivered(runs.next()) == new
