#!/usr/bin/env python3
"""Summarises a `meson test` run: every skipped test with its reason, every failure, and a last line
`N passed, N failed, N skipped` counting individual test cases (GoogleTest cases, or whole tests
for non-GoogleTest programs). A test program that crashed or timed out without reporting its cases
counts as one failure."""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OK_RESULTS = {"OK", "SKIP", "EXPECTEDFAIL"}


def main(build_dir: Path) -> int:
    logs = build_dir / "meson-logs"
    junit = ET.parse(logs / "testlog.junit.xml").getroot()
    passed, failed, skipped = 0, [], []
    failing_programs = set()
    for suite in junit.iter("testsuite"):
        program = suite.attrib.get("name", "").rsplit(".", 1)[0]
        for case in suite.iter("testcase"):
            name = f"{suite.attrib.get('name')}.{case.attrib.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(name)
                failing_programs.add(program)
            elif case.find("skipped") is not None:
                reason = (case.find("skipped").attrib.get("message") or "").splitlines()
                skipped.append((name, reason[-1] if reason else "no reason given"))
            else:
                passed += 1
    # Programs that failed without a failing case (crash, timeout, missing binary).
    for line in (logs / "testlog.json").read_text().splitlines():
        result = json.loads(line)
        if result["result"] not in OK_RESULTS and not any(
                p.endswith(result["name"]) for p in failing_programs):
            failed.append(f"{result['name']} ({result['result']})")
    for name, reason in skipped:
        print(f"SKIPPED {name}: {reason}")
    for name in failed:
        print(f"FAILED  {name}")
    print(f"{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "build")))
