"""One home for version checks: the flags match the running Airflow, and a feature that needs a
newer Airflow raises Airflow's own ``AirflowOptionalProviderFeatureException``."""

from __future__ import annotations

import pytest
from airflow import __version__ as airflow_version
from airflow.providers.common.compat.sdk import AirflowOptionalProviderFeatureException
from packaging.version import Version

from airflow_provider_stripe.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_3_PLUS, require_airflow


def test_flags_match_the_running_airflow() -> None:
    release = Version(airflow_version).release
    assert release[:2] >= (3, 0) if AIRFLOW_V_3_0_PLUS else release[:2] < (3, 0)
    assert release[:2] >= (3, 3) if AIRFLOW_V_3_3_PLUS else release[:2] < (3, 3)


def test_a_feature_of_a_newer_airflow_is_refused_with_the_versions_and_an_alternative() -> None:
    with pytest.raises(AirflowOptionalProviderFeatureException) as caught:
        require_airflow((99, 0), "Time travel", "Use a sensor instead.")
    message = str(caught.value)
    assert message.startswith("Time travel needs Airflow 99.0 or newer")
    assert f"this is Airflow {airflow_version}" in message
    assert message.endswith("Use a sensor instead.")


def test_a_feature_of_this_airflow_is_allowed() -> None:
    major, minor = Version(airflow_version).release[:2]
    require_airflow((major, minor), "Anything", "")
