"""docs/exports.md shows the example DAG's marked snippet as it is, not a copy that drifted."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_guide_shows_the_example_dag_snippet() -> None:
    example = (ROOT / "example_dags" / "stripe_export_nightly.py").read_text()
    snippet = re.search(
        r"# \[START howto_stripe_export_nightly\]\n(.*?)# \[END howto_stripe_export_nightly\]", example, re.S
    )
    assert snippet
    assert f"```python\n{snippet.group(1)}```" in (ROOT / "docs" / "exports.md").read_text()
