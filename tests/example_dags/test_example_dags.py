"""The example DAGs: they parse cleanly on every supported Airflow, and they work end to end.

Parsing happens in a fresh interpreter, as in Airflow's DAG processor: a warning is raised only the
first time a module is imported, so parsing inside this test session (where other tests imported
Airflow and the provider already) could hide one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import airflow
import pytest

from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_3_PLUS
from tests.dag_runs import load_dag
from tests.example_dags.flows import EXAMPLE_DAGS, run_flow

AIRFLOW_PACKAGE = Path(airflow.__file__).resolve().parent

SENSOR_AND_SCHEDULE_DAGS = {"stripe_scheduled_checkout", "stripe_new_charges", "stripe_new_refunds"}
EXPORT_DAGS = {"stripe_export_nightly", "stripe_current_copy_snapshot", "stripe_current_copy"}
MIRROR_DAGS = {"stripe_mirror_postgres"}  # run end to end on PostgreSQL in tests/mirror
# stripe_event_driven needs AssetWatcher event triggers with an asset state store: Airflow 3.3+.
EVENT_DRIVEN = {"stripe_event_driven"}

CHANGE_FEED_DAGS = {"stripe_refund_events"}  # run end to end in tests/events

EXPECTED_DAG_IDS = (
    SENSOR_AND_SCHEDULE_DAGS
    | EXPORT_DAGS
    | CHANGE_FEED_DAGS
    | MIRROR_DAGS
    | (EVENT_DRIVEN if AIRFLOW_V_3_3_PLUS else set())
)

# Airflow's own noise, raised whoever imports the module first; none of it is caused by a DAG file.
AIRFLOW_NOISE = (
    # 2.11: a config default about metric units, raised when airflow.stats is first imported.
    "Timer and timing metrics publish in seconds were deprecated",
)

_PARSE = textwrap.dedent(
    """
    import json, sys, warnings

    from airflow import __version__ as airflow_version

    if int(airflow_version.split(".")[0]) >= 3:
        from airflow.dag_processing.dagbag import DagBag
        from airflow.serialization.serialized_objects import DagSerialization as Serializer
        options = {}
    else:
        from airflow.models.dagbag import DagBag
        from airflow.serialization.serialized_objects import SerializedDAG as Serializer
        options = {"include_examples": False}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(sys.argv[1], **options)
        # The DAG processor stores every DAG serialized: a DAG that cannot be is an import error there.
        serialization_errors = {}
        for dag_id, dag in bag.dags.items():
            try:
                Serializer.from_dict(Serializer.to_dict(dag))
            except Exception as error:
                serialization_errors[dag_id] = repr(error)
    with open(sys.argv[2], "w") as out:
        json.dump(
            {
                "dag_ids": sorted(bag.dag_ids),
                "import_errors": {str(path): str(error) for path, error in bag.import_errors.items()},
                "serialization_errors": serialization_errors,
                "captured_warnings": {str(path): list(w) for path, w in bag.captured_warnings.items()},
                "warnings": [
                    {"category": w.category.__name__, "filename": w.filename, "lineno": w.lineno,
                     "message": str(w.message)}
                    for w in caught
                ],
            },
            out,
        )
    """
)


def parse_in_fresh_interpreter(folder: Path, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "parsed.json"
    done = subprocess.run(
        [sys.executable, "-c", _PARSE, str(folder), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    parsed: dict[str, Any] = json.loads(out.read_text())
    return parsed


def warnings_not_from_airflow(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    def is_airflow_noise(warning: dict[str, Any]) -> bool:
        in_airflow = Path(warning["filename"]).resolve().is_relative_to(AIRFLOW_PACKAGE)
        return in_airflow and any(text in warning["message"] for text in AIRFLOW_NOISE)

    return [w for w in parsed["warnings"] if not is_airflow_noise(w)]


def test_example_dags_parse_without_errors_or_warnings(tmp_path: Path) -> None:
    parsed = parse_in_fresh_interpreter(EXAMPLE_DAGS, tmp_path)
    assert parsed["import_errors"] == {}
    assert parsed["serialization_errors"] == {}
    assert set(parsed["dag_ids"]) == EXPECTED_DAG_IDS
    assert parsed["captured_warnings"] == {}
    assert warnings_not_from_airflow(parsed) == []


def test_the_warning_check_sees_a_warning_raised_by_a_dag_file(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "noisy.py").write_text(
        textwrap.dedent(
            """
            import warnings

            import pendulum
            from airflow.providers.common.compat.sdk import DAG

            warnings.warn("this DAG file is deprecated", DeprecationWarning, stacklevel=1)
            dag = DAG("noisy", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))
            """
        )
    )
    parsed = parse_in_fresh_interpreter(folder, tmp_path)
    assert parsed["dag_ids"] == ["noisy"]
    assert any("this DAG file is deprecated" in w["message"] for w in warnings_not_from_airflow(parsed))


def test_every_stripe_task_uses_the_default_connection() -> None:
    from airflow_provider_stripe.operators.stripe import StripeBaseOperator
    from airflow_provider_stripe.sensors.stripe import StripeNewChargeSensor, StripeNewRefundSensor

    for dag_id in sorted(SENSOR_AND_SCHEDULE_DAGS):
        dag = load_dag(EXAMPLE_DAGS / f"{dag_id}.py", dag_id)
        stripe_tasks = [
            task
            for task in dag.tasks
            if isinstance(task, (StripeBaseOperator, StripeNewChargeSensor, StripeNewRefundSensor))
        ]
        assert stripe_tasks, dag_id
        assert {task.stripe_conn_id for task in stripe_tasks} == {"stripe_default"}, dag_id


@pytest.mark.parametrize(
    ("dag_id", "sensor"),
    [("stripe_new_charges", "wait_for_new_charges"), ("stripe_new_refunds", "wait_for_new_refunds")],
)
@pytest.mark.parametrize(
    ("conf", "start_from"),
    [({}, None), ({"start_from": 1767225600}, 1767225600), ({"start_from": "2026-01-01"}, "2026-01-01")],
)
def test_sensor_start_from_comes_from_the_run_config(
    dag_id: str, sensor: str, conf: dict[str, Any], start_from: Any
) -> None:
    """No config renders None (not "None"), which the sensor reads as "since this run started"."""
    dag = load_dag(EXAMPLE_DAGS / f"{dag_id}.py", dag_id)
    task = dag.get_task(sensor)
    params = {**{name: dag.params[name] for name in dag.params}, **conf}
    assert task.render_template(task.start_from, {"params": params}, dag.get_template_env()) == start_from


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="AssetWatcher event triggers need Airflow 3.3+")
def test_event_driven_dag_is_scheduled_on_an_asset_watched_by_the_charge_trigger() -> None:
    from airflow_provider_stripe.triggers.stripe import StripeNewChargeEventTrigger

    dag = load_dag(EXAMPLE_DAGS / "stripe_event_driven.py", "stripe_event_driven")
    (asset,) = dag.schedule
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, StripeNewChargeEventTrigger)
    assert watcher.trigger.stripe_conn_id == "stripe_default"

    # The task reads what Airflow gives a run triggered by the watcher: asset events whose extra
    # holds the trigger's payload (tests/event_triggers checks that shape in a real deployment).
    def event(*charge_ids: str) -> SimpleNamespace:
        charges = [{"id": charge_id, "amount": 2000, "currency": "usd"} for charge_id in charge_ids]
        return SimpleNamespace(extra={"from_trigger": True, "payload": {"objects": charges}})

    book = dag.get_task("book_new_charges")
    events = {asset: [event("ch_1", "ch_2"), event("ch_3")]}
    assert book.python_callable(triggering_asset_events=events) == ["ch_1", "ch_2", "ch_3"]


def test_the_demo_flow_end_to_end(stripe_connection: str, stripe_emulator: StripeEmulator) -> None:
    """What scripts/demo runs: the scheduled checkout, then the two sensor DAGs see what it made."""
    flow = run_flow()

    (product,) = stripe_emulator.objects("product")
    (customer,) = stripe_emulator.objects("customer")
    (charge,) = stripe_emulator.objects("charge")
    (refund,) = stripe_emulator.objects("refund")
    assert flow.created("create_product")["id"] == product["id"]
    assert product["name"] == "Airflow mug"
    assert flow.created("create_customer")["id"] == customer["id"]
    assert customer["default_source"]  # the tok_visa card, saved as the default
    assert customer["metadata"] == {"airflow_run_id": flow.checkout.run_id}
    assert flow.created("charge_customer")["id"] == charge["id"]
    assert (charge["customer"], charge["amount"], charge["currency"], charge["paid"]) == (
        customer["id"],
        2000,
        "usd",
        True,
    )
    assert charge["metadata"] == {"product_id": product["id"]}
    assert charge["description"] == "One Airflow mug"
    assert flow.created("refund_part")["id"] == refund["id"]
    assert (refund["charge"], refund["amount"]) == (charge["id"], 500)

    assert flow.charges_seen == [charge["id"]]
    assert flow.charges.xcom("summarize") == {"charges": [charge["id"]], "count": 1}
    assert flow.refunds_seen == [refund["id"]]
    assert flow.refunds.xcom("total_refunded") == {"usd": 500}
    # Four creates, then one poll per sensor.
    assert stripe_emulator.count("POST") == 4
    assert stripe_emulator.count("GET") == 2
