"""How many times each test ran and passed in the rounds of ``scripts/test --stress`` (its JUnit files).

    python scripts/stress_report.py 3.3.2-round1.xml 3.3.2-round2.xml ...

A file's name starts with the Airflow version it ran on (``<version>-round<n>.xml``).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path


def main(paths: list[Path]) -> int:
    runs: Counter[tuple[str, str]] = Counter()
    passed: Counter[tuple[str, str]] = Counter()
    print("==> stress rounds")
    for path in sorted(paths):
        version = path.name.split("-round")[0]
        suite = ET.parse(path).getroot()
        suite = suite if suite.tag == "testsuite" else suite[0]
        seconds = float(suite.get("time", 0))
        print(
            f"  {path.stem}: {suite.get('tests')} tests, {suite.get('failures')} failures, "
            f"{suite.get('errors')} errors, {suite.get('skipped')} skipped, {seconds:.0f} s"
        )
        for case in suite.iter("testcase"):
            outcome = {child.tag for child in case}
            if "skipped" in outcome:
                continue
            test = (version, f"{case.get('classname')}::{case.get('name')}")
            runs[test] += 1
            passed[test] += not outcome & {"failure", "error"}
    print("==> runs and passes per test (skipped ones left out)")
    for version, test in sorted(runs):
        mark = "" if passed[version, test] == runs[version, test] else "   <-- FAILED"
        print(f"  {version}  {passed[version, test]}/{runs[version, test]} passed  {test}{mark}")
    failed = sum(runs[test] - passed[test] for test in runs)
    print(f"==> {sum(runs.values())} test runs, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main([Path(arg) for arg in sys.argv[1:]]))
