"""Which Airflow this is: every version check of the provider reads one of these flags.

As in Airflow's own providers (``airflow.providers.*.version_compat``): compare the release tuple,
so a pre-release or a dev build of 3.3.0 counts as 3.3.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowOptionalProviderFeatureException


def get_base_airflow_version_tuple() -> tuple[int, int, int]:
    from airflow import __version__
    from packaging.version import Version

    airflow_version = Version(__version__)
    return airflow_version.major, airflow_version.minor, airflow_version.micro


AIRFLOW_V_3_0_PLUS: bool = get_base_airflow_version_tuple() >= (3, 0, 0)
#: The asset state store and the ack mode of shared trigger streams (the AssetWatcher event triggers).
AIRFLOW_V_3_3_PLUS: bool = get_base_airflow_version_tuple() >= (3, 3, 0)


def require_airflow(minimum: tuple[int, int], feature: str, instead: str) -> None:
    """Refuse ``feature`` on an Airflow older than ``minimum``, saying what to use ``instead``.

    :raises AirflowOptionalProviderFeatureException: on an older Airflow.
    """
    from airflow import __version__

    if get_base_airflow_version_tuple() < (*minimum, 0):
        wanted = ".".join(map(str, minimum))
        raise AirflowOptionalProviderFeatureException(
            f"{feature} needs Airflow {wanted} or newer (this is Airflow {__version__}). {instead}"
        )


__all__ = ["AIRFLOW_V_3_0_PLUS", "AIRFLOW_V_3_3_PLUS", "get_base_airflow_version_tuple", "require_airflow"]
