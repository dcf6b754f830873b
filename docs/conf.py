"""Sphinx configuration: the guides (Markdown, through MyST) and the API reference from the docstrings.

Built in CI with warnings as errors: ``sphinx-build -W --keep-going -b html docs <out>`` (``scripts/test``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Autodoc imports the provider, which imports Airflow: give Airflow a throw-away home so that building the
# docs never reads or writes the user's own.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-provider-stripe-docs-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_stripe import __version__

project = "airflow-provider-stripe"
author = "airflow-provider-stripe contributors"
release = version = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.viewcode"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "alabaster"
html_title = f"airflow-provider-stripe {release}"
