"""The figures each reliability test reports: what was tried, how many times, what was lost.

Tests call :func:`record`; ``conftest.py`` prints the table at the end of the session (it is the
source of the table in ``docs/reliability.md``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    test: str
    tried: str
    times: str
    lost: str


FIGURES: list[Figure] = []


def record(test: str, tried: str, times: str, lost: str) -> None:
    FIGURES.append(Figure(test, tried, times, lost))
