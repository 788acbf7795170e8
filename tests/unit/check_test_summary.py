"""tools/test_summary.py on meson logs as a cut-short, crashed or timed-out run leaves them: the
`N passed, N failed, N skipped` line always comes, failures and timeouts count as failed.

usage: check_test_summary.py TEST_SUMMARY_PY
"""
import subprocess
import sys
import tempfile
from pathlib import Path

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="vmt-gst:unit / unit.unit-tests" tests="3">
    <testcase name="Rle.Encodes" classname="Rle"/>
    <testcase name="Rle.Decodes" classname="Rle"/>
    <testcase name="Gpu.Kernel" classname="Gpu"><skipped message="needs a CUDA GPU: none"/></testcase>
  </testsuite>
  <testsuite name="vmt-gst:runtime / engine.engine-tests" tests="2">
    <testcase name="Engine.Loads" classname="Engine"/>
    <testcase name="Engine.Runs" classname="Engine"><failure message="expected 3"/></testcase>
  </testsuite>
</testsuites>
"""

PROGRAMS = [
    '{"name": "unit", "result": "OK"}',
    '{"name": "engine", "result": "FAIL"}',
    '{"name": "pipelines", "result": "TIMEOUT"}',
    '{"name": "rtsp", "result": "SIGSEGV"}',
]


def summarise(script: str, junit: str | None, json_lines: list[str] | None) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp) / "meson-logs"
        logs.mkdir()
        if junit is not None:
            (logs / "testlog.junit.xml").write_text(junit)
        if json_lines is not None:
            (logs / "testlog.json").write_text("\n".join(json_lines) + "\n")
        done = subprocess.run([sys.executable, script, tmp], capture_output=True, text=True,
                              timeout=60)
        assert not done.stderr, f"stderr: {done.stderr}"
        return done.returncode, done.stdout


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def check(condition: bool, what: str, out: str) -> None:
    if not condition:
        sys.exit(f"FAIL: {what}\n--- output ---\n{out}")


def main() -> None:
    script = sys.argv[1]

    code, out = summarise(script, JUNIT, PROGRAMS)
    check(last_line(out) == "3 passed, 3 failed, 1 skipped", "a normal run", out)
    check("FAILED  pipelines (TIMEOUT)" in out and "FAILED  rtsp (SIGSEGV)" in out,
          "timeouts and crashes are named", out)
    check("SKIPPED vmt-gst:unit / unit.unit-tests.Gpu.Kernel: needs a CUDA GPU: none" in out,
          "a skip gives its reason", out)
    check(code == 1, "failures give exit status 1", out)

    # a line cut short where meson was killed, and a line that is not an object of results
    code, out = summarise(script, JUNIT, PROGRAMS[:2] + ['{"name": "pipel', '[1, 2]'])
    check(last_line(out) == "3 passed, 1 failed, 1 skipped", "unreadable lines are skipped", out)
    check("WARNING testlog.json line 3 unreadable" in out, "an unreadable line is reported", out)

    # no JUnit file at all (a run cut short before meson wrote it): the programs still count
    code, out = summarise(script, None, PROGRAMS)
    check(last_line(out) == "0 passed, 4 failed, 0 skipped", "without a JUnit file", out)
    check("FAILED  testlog.junit.xml unreadable" in out, "a missing JUnit file is a failure", out)

    # a half-written JUnit file
    code, out = summarise(script, JUNIT[: len(JUNIT) // 2], ['{"name": "unit", "result": "OK"}'])
    check(last_line(out) == "0 passed, 1 failed, 0 skipped" and code == 1, "a broken JUnit file",
          out)

    # nothing readable at all: a failure, not a silent success
    code, out = summarise(script, None, None)
    check(last_line(out) == "0 passed, 2 failed, 0 skipped" and code == 1, "no logs at all", out)

    # a clean run exits 0
    code, out = summarise(script, JUNIT.replace('<failure message="expected 3"/>', ""),
                          ['{"name": "unit", "result": "OK"}', '{"name": "engine", "result": "OK"}'])
    check(code == 0 and last_line(out) == "4 passed, 0 failed, 1 skipped", "a clean run", out)
    print("OK")


if __name__ == "__main__":
    main()
