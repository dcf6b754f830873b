"""Reliability tests: faults, retries, bad input and the cursor model, each reporting its figures."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability.figures import FIGURES


class _NoAnswerCounter(logging.Handler):
    """Counts the hook's "no answer" log lines: requests that timed out or lost their connection."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "-> no answer" in message:
            timed_out = "timeout" in message.lower() or "timed out" in message.lower()
            self.counts["timed out" if timed_out else "connection lost"] += 1


@pytest.fixture
def no_answers() -> Iterator[Counter[str]]:
    """How many requests the hook sent that got no answer, by reason, while the test ran."""
    logger = logging.getLogger("airflow_provider_stripe")
    counter = _NoAnswerCounter()
    logger.addHandler(counter)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield counter.counts
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for figure in FIGURES:
        terminalreporter.write_line(
            f"{figure.test}: tried {figure.tried} | times {figure.times} | lost {figure.lost}"
        )
