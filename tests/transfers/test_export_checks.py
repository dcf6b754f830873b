"""Bad input fails when the DAG file is parsed, naming the field, before any request is sent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.testing import StripeEmulator
from airflow_provider_stripe.transfers.resources import EXPORTABLE_RESOURCES, SNAPSHOT_ONLY_RESOURCES
from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator
from tests.dag_runs import AIRFLOW_3, migrate_db, write_dag

GOOD: dict[str, Any] = {"task_id": "export", "resource": "charges", "path": "file:///data/stripe/{{ ds }}/"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"resource": "chargez"}, "resource"),
        ({"resource": "balance"}, "resource"),  # a list without a `created` filter
        ({"path": "/data/stripe/charges/"}, "path"),
        ({"path": "data/{{ ds }}"}, "path"),
        ({"window": "daily"}, "window"),
        ({"format": "csv"}, "format"),
        ({"lookback": -1}, "lookback"),
        ({"objects_per_part": 0}, "objects_per_part"),
        ({"list_params": {"created": {"gte": 1}}}, "list_params.created"),
        ({"list_params": {"limit": 10}}, "list_params.limit"),
        ({"list_params": ["customer"]}, "list_params"),
    ],
)
def test_bad_literal_fails_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(StripeValidationError) as error:
        StripeToObjectStorageOperator(**{**GOOD, **changes})
    assert error.value.param == field
    assert field.split(".")[0] in str(error.value)


def test_templates_wait_for_rendering() -> None:
    operator = StripeToObjectStorageOperator(
        **{**GOOD, "path": "{{ var.value.export_root }}", "list_params": "{{ params.filters }}"}
    )
    assert operator.outlets == []


def test_outlet_asset_is_the_destination_without_its_connection() -> None:
    operator = StripeToObjectStorageOperator(
        **{**GOOD, "path": "s3://aws_default@lake/stripe/charges/{{ ds }}/"}
    )
    assert [outlet.uri for outlet in operator.outlets] == ["s3://lake/stripe/charges"]


def test_bad_dag_file_is_an_import_error_and_sends_nothing(
    stripe_connection: str, stripe_emulator: StripeEmulator
) -> None:
    path = write_dag(
        "export_bad_input",
        """
        import pendulum
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_stripe.transfers.stripe_to_object_storage import StripeToObjectStorageOperator

        with DAG("export_bad_input", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
            StripeToObjectStorageOperator(task_id="export", resource="charges", path="/tmp/not-a-url/")
        """,
    )
    migrate_db()
    if AIRFLOW_3:
        from airflow.dag_processing.dagbag import DagBag

        errors = DagBag(str(path)).import_errors
    else:
        from airflow.models.dagbag import DagBag as DagBag2

        errors = DagBag2(str(path), include_examples=False).import_errors
    assert "path must be a URL" in next(iter(errors.values()))
    assert stripe_emulator.requests == []


def test_resource_tables_match_stripe_python() -> None:
    """Every ``GET /v1/...`` list of stripe-python 16.1.0, by whether its ``*ListParams`` has ``created``."""
    import stripe

    root = Path(stripe.__file__).parent
    with_created = set()
    for params_file in (root / "params").rglob("*_list_params.py"):
        text = params_file.read_text()
        match = re.search(r"^class (\w+ListParams)\(", text, re.M)
        if match and re.search(r"^    created: ", text, re.M):
            with_created.add((params_file.parent.name, match.group(1)))
    lists: dict[str, bool] = {}
    for service in root.rglob("_*_service.py"):
        for method in re.split(r"\n    (?:async )?def ", service.read_text()):
            params = re.match(r'list\(\s*self,\s*params: Optional\["(\w+ListParams)"\]', method)
            path = re.search(r'self\._request\(\s*"get",\s*"/v1/([a-z_/]+)",', method)
            folder = service.parent.name if service.parent != root else "params"
            if params and path:
                lists[path.group(1)] = (folder, params.group(1)) in with_created
    assert stripe.VERSION == "16.1.0"
    assert {name for name, created in lists.items() if created} == EXPORTABLE_RESOURCES
    assert {name for name, created in lists.items() if not created} == SNAPSHOT_ONLY_RESOURCES
