"""Airflow finds the provider, its hook and the Stripe connection form, on 3.x and on 2.11."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_stripe.get_provider_info import get_provider_info
from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS

AIRFLOW_CLI = str(Path(sys.executable).with_name("airflow"))


def airflow_cli(*args: str) -> str:
    done = subprocess.run(
        [AIRFLOW_CLI, *args], capture_output=True, text=True, env=os.environ.copy(), timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_package_name_matches_the_distribution() -> None:
    from importlib.metadata import distribution

    assert get_provider_info()["package-name"] == distribution("airflow-provider-stripe").metadata["Name"]


def test_providers_list_shows_the_provider() -> None:
    assert "airflow-provider-stripe" in airflow_cli("providers", "list")


def test_providers_hooks_shows_the_stripe_connection_type() -> None:
    hooks = [line for line in airflow_cli("providers", "hooks").splitlines() if line.startswith("stripe ")]
    assert len(hooks) == 1
    assert "airflow_provider_stripe.hooks.stripe.StripeHook" in hooks[0]
    assert "stripe_conn_id" in hooks[0]


def test_connection_form_metadata_has_the_api_key_and_extras() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours["stripe"]
    assert behaviour["relabeling"]["password"] == "API key"
    assert "login" in behaviour["hidden_fields"]
    assert "host" not in behaviour["hidden_fields"]
    widgets = manager.connection_form_widgets
    for extra in ("stripe_version", "stripe_account", "max_retries", "timeout"):
        assert f"extra__stripe__{extra}" in widgets
    max_retries = widgets["extra__stripe__max_retries"].field
    if AIRFLOW_V_3_0_PLUS:  # declarative conn-fields from get_provider_info()
        assert max_retries["schema"]["title"] == "Max retries"
    else:  # wtforms widgets from StripeHook.get_connection_form_widgets()
        from wtforms import IntegerField

        assert max_retries.field_class is IntegerField


def test_hook_form_methods_mirror_the_declarative_form() -> None:
    pytest.importorskip("flask_appbuilder")
    from airflow_provider_stripe.hooks.stripe import StripeHook

    info = get_provider_info()["connection-types"][0]
    assert set(StripeHook.get_connection_form_widgets()) == set(info["conn-fields"])
    assert StripeHook.get_ui_field_behaviour()["relabeling"] == info["ui-field-behaviour"]["relabeling"]


def test_importing_the_hook_module_does_not_import_requests() -> None:
    # Airflow 2.11 imports requests itself; what matters is that the hook adds no import of it.
    code = (
        "import sys, airflow.providers.common.compat.sdk; before = 'requests' in sys.modules; "
        "import airflow_provider_stripe.hooks.stripe; print(before, 'requests' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = done.stdout.split()
    assert after == before


TRIGGER_MODULES = [
    "airflow_provider_stripe.triggers.stripe",
    "airflow_provider_stripe.triggers.stripe_events",
]


def test_providers_triggers_lists_the_trigger_modules() -> None:
    rows = [
        row for row in airflow_cli("providers", "triggers").splitlines() if "airflow-provider-stripe" in row
    ]
    assert sorted(row.split("|")[1].strip() for row in rows) == TRIGGER_MODULES  # the CLI's order varies


@pytest.mark.parametrize("kind", ["hooks", "operators", "sensors", "triggers"])
def test_every_listed_module_imports(kind: str) -> None:
    import importlib

    modules = [module for entry in get_provider_info()[kind] for module in entry["python-modules"]]
    assert modules == (TRIGGER_MODULES if kind == "triggers" else [f"airflow_provider_stripe.{kind}.stripe"])
    for module in modules:
        importlib.import_module(module)


def test_the_version_has_one_home() -> None:
    from importlib.metadata import version

    from airflow_provider_stripe import __version__

    assert version("airflow-provider-stripe") == __version__
    assert get_provider_info()["versions"] == [__version__]
    assert f"airflow-provider-stripe | {__version__}" in airflow_cli(
        "providers", "get", "airflow-provider-stripe"
    )


def test_the_distribution_ships_the_apache_license() -> None:
    from importlib.metadata import distribution

    dist = distribution("airflow-provider-stripe")
    licenses = [file for file in dist.files or [] if file.name == "LICENSE"]
    assert licenses, "no LICENSE in the installed distribution"
    text = licenses[0].read_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text
    assert dist.metadata["License"] == "Apache-2.0" or "Apache-2.0" in (
        dist.metadata["License-Expression"] or ""
    )
