#!/usr/bin/env python3
"""Summarises a `meson test` run: every skipped test with its reason, every failure, and a last line
`N passed, N failed, N skipped` counting individual test cases (GoogleTest cases, or whole tests
for non-GoogleTest programs).

It never fails to print that line. A test program that crashed, timed out or was killed without
reporting its cases counts as one failure; a log line or a JUnit file that cannot be read (a run
cut short, a half-written file) is reported and the rest is still counted. Exit status: 0 when
nothing failed, 1 otherwise (also when no test result could be read at all)."""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OK_RESULTS = {"OK", "SKIP", "EXPECTEDFAIL"}


def read_program_results(path: Path, problems: list) -> list:
    """meson's testlog.json: one JSON object per test program. Unreadable lines are skipped."""
    results = []
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as error:
        problems.append(f"cannot read {path}: {error.strerror}")
        return results
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            result = json.loads(line)
            results.append((str(result["name"]), str(result["result"])))
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"{path.name} line {number} unreadable ({type(error).__name__})")
    return results


def read_cases(path: Path):
    """meson's JUnit log: (passed, failed names, (skipped name, reason) pairs, failing programs)."""
    passed, failed, skipped, failing_programs = 0, [], [], set()
    try:
        junit = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        # The cases are unknown: count that as a failure rather than report a clean run.
        failed.append(f"{path.name} unreadable ({type(error).__name__})")
        return passed, failed, skipped, failing_programs
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
    return passed, failed, skipped, failing_programs


def summarise(build_dir: Path) -> int:
    logs = build_dir / "meson-logs"
    problems = []
    passed, failed, skipped, failing_programs = read_cases(logs / "testlog.junit.xml")
    programs = read_program_results(logs / "testlog.json", problems)
    # Programs that failed without a failing case: a crash, a timeout, a missing binary.
    for name, result in programs:
        if result not in OK_RESULTS and not any(p.endswith(name) for p in failing_programs):
            failed.append(f"{name} ({result})")
    if not programs:
        failed.append("no test program results could be read")
    for problem in problems:
        print(f"WARNING {problem}")
    for name, reason in skipped:
        print(f"SKIPPED {name}: {reason}")
    for name in failed:
        print(f"FAILED  {name}")
    print(f"{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0


def main() -> int:
    try:
        return summarise(Path(sys.argv[1] if len(sys.argv) > 1 else "build"))
    except Exception as error:  # the summary line must come whatever happened
        print(f"WARNING the test logs could not be summarised: {type(error).__name__}: {error}")
        print("0 passed, 1 failed, 0 skipped")
        return 1


if __name__ == "__main__":
    sys.exit(main())
