"""The emulator's accepted parameters are stripe-python 16.1.0's, regenerated and compared here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import stripe

from airflow_provider_stripe.testing import accepted
from airflow_provider_stripe.testing.resources import ENDPOINTS

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_stripe_params.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_stripe_params", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_data_file_is_what_the_pinned_sdk_generates() -> None:
    """If this fails after an SDK upgrade, run scripts/generate_stripe_params.py and review the diff."""
    script = generator()
    assert accepted.DATA_FILE.read_text(encoding="utf-8") == script.render(script.generate())
    assert accepted.generated()["stripe_python"] == stripe.VERSION
    assert accepted.generated()["api_version"] == stripe.api_version


def test_every_endpoint_accepts_exactly_the_sdk_parameters() -> None:
    for endpoint in ENDPOINTS:
        assert set(endpoint.schema) == set(accepted.generated()["params"][endpoint.params]), endpoint.path


def test_the_pinned_version_is_a_published_one() -> None:
    assert stripe.api_version in accepted.api_versions()
