"""A DAG file with one StripeNewEventSensor, written into the dags folder and loaded for dag.test()."""

from __future__ import annotations

from typing import Any

from tests.dag_runs import RunResult, load_dag, write_dag


def event_sensor_dag(dag_id: str, start_from: int, **options: Any) -> Any:
    settings = {"poke_interval": 0.1, "timeout": 5, "mode": "poke", **options}
    arguments = ", ".join(f"{name}={value!r}" for name, value in settings.items())
    path = write_dag(
        dag_id,
        f"""
        from datetime import timedelta

        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.sensors.stripe import StripeNewEventSensor

        with DAG(
            {dag_id!r},
            schedule=None,
            start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
            catchup=False,
            default_args={{"retries": 1, "retry_delay": timedelta(0)}},
        ):
            StripeNewEventSensor(task_id="new", start_from={start_from}, {arguments})
        """,
    )
    return load_dag(path, dag_id)


def delivered(result: RunResult, map_index: int = -1) -> list[dict[str, Any]]:
    assert result.state_of("new", map_index) == "success", result.task_states
    events: list[dict[str, Any]] = result.xcom("new", map_index=map_index)
    return events
