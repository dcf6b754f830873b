"""Test-session set-up shared by every test module.

Airflow reads AIRFLOW_HOME when it is first imported, so the throw-away home is set here, at
conftest import time, before any test module imports Airflow. One home serves the whole session.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-provider-stripe-tests-"))
(AIRFLOW_HOME / "dags").mkdir()
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__LAZY_LOAD_PLUGINS"] = "True"
