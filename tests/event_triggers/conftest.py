from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_airflow: starts real Airflow processes (scheduler, triggerer...); slow (about a minute) but "
        "part of the normal suite",
    )
