"""The guides show code from the example DAGs themselves (MyST ``literalinclude`` between
``[START name]`` / ``[END name]`` markers), so a snippet cannot drift from a DAG that is tested."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_INCLUDE = re.compile(
    r"```\{literalinclude\} \.\./(?P<file>\S+)\n(?P<options>(?::[^\n]*\n)*)```", re.MULTILINE
)
_OPTION = re.compile(r'^:(start-after|end-before): "\[(START|END) (\S+)\]"$', re.MULTILINE)


def _includes() -> list[tuple[str, str, str, str]]:
    """(guide, included file, START marker, END marker) of every include in the guides."""
    found = []
    for guide in sorted((ROOT / "docs").glob("*.md")):
        for include in _INCLUDE.finditer(guide.read_text()):
            names = {kind: name for _, kind, name in _OPTION.findall(include["options"])}
            found.append((guide.name, include["file"], names.get("START", ""), names.get("END", "")))
    return found


def test_the_guides_include_the_example_dags() -> None:
    guides = {guide for guide, *_ in _includes()}
    assert {
        "exports.md",
        "sensors.md",
        "operators.md",
        "change-feed.md",
        "event-driven-dags.md",
        "current-copy.md",
    } <= guides


@pytest.mark.parametrize(("guide", "source", "marker", "end_marker"), _includes())
def test_each_snippet_is_marked_once_in_its_example_dag(
    guide: str, source: str, marker: str, end_marker: str
) -> None:
    assert marker, f"{guide} includes {source} without a START marker"
    assert marker == end_marker, f"{guide} includes {source} from {marker!r} to {end_marker!r}"
    text = (ROOT / source).read_text()
    assert text.count(f"# [START {marker}]\n") == 1, f"{guide} includes {source}'s missing {marker}"
    assert text.count(f"# [END {marker}]\n") == 1, f"{guide} includes {source}'s missing {marker}"
    assert text.index(f"[START {marker}]") < text.index(f"[END {marker}]")
