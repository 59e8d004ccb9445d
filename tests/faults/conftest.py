"""The fault suite's report: each case says what it lost and what it did
twice (`FAULT <case>: lost=N twice=M`), printed as it runs (with -s) and
again in a "fault suite" section of the terminal summary, so `.ci/run`
shows every line."""

from __future__ import annotations

import pytest

FAULT_LINES = pytest.StashKey[list[str]]()


@pytest.fixture
def fault_report(request):
    """`fault_report(case, lost, twice, **more)`: record the case's line
    (call it before asserting, so a failing case still says what it lost)."""

    def report(case: str, lost: int, twice: int, **more: object) -> str:
        extra = "".join(f" {k}={v}" for k, v in more.items())
        line = f"FAULT {case}: lost={lost} twice={twice}{extra}"
        request.config.stash.setdefault(FAULT_LINES, []).append(line)
        print(line, flush=True)
        return line

    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(FAULT_LINES, [])
    if lines:
        terminalreporter.section("fault suite")
        for line in lines:
            terminalreporter.write_line(line)
