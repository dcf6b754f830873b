"""Test-session set-up shared by every test module.

Airflow reads AIRFLOW_HOME when it is first imported, so the throw-away home is set here, at
conftest import time, before any test module imports Airflow. One home serves the whole session.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_stripe.testing.emulator import StripeEmulator

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-provider-stripe-tests-"))
(AIRFLOW_HOME / "dags").mkdir()
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__LAZY_LOAD_PLUGINS"] = "True"


@pytest.fixture
def stripe_emulator(stripe_emulator: StripeEmulator) -> StripeEmulator:
    """The plugin's emulator with Stripe's rate limit lifted: most tests are about something else.

    A test about traffic (pacing, 429s, back-off) sets the limit it is about with
    ``stripe_emulator.rate_limit(...)``.
    """
    stripe_emulator.rate_limit(None)
    return stripe_emulator
