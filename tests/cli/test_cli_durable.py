"""The command line on the durable host: changing --host is what makes a run durable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

APPS = Path(__file__).parent.parent / "conformance" / "apps"


def orrery(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orrery", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_same_entry_runs_natively_and_as_a_workflow(tmp_path: Path) -> None:
    roots = [str(APPS / "base-native"), str(APPS / "base-temporal"), str(APPS / "ex10")]
    memory = ["--override", 'app:temporal:dev_server.database_file=":memory:"']
    native = orrery(
        "run",
        *roots,
        *memory,
        "--exec",
        "ex.conflict:sleeper",
        "--host",
        "app:processes",
        "--input",
        '{"duration": "10ms"}',
        cwd=tmp_path,
    )
    durable = orrery(
        "run",
        *roots,
        *memory,
        "--exec",
        "ex.conflict:sleeper",
        "--host",
        "app:worker",
        "--input",
        '{"duration": "10ms"}',
        cwd=tmp_path,
    )
    assert native.returncode == 0, native.stderr
    assert durable.returncode == 0, durable.stderr
    assert native.stdout.splitlines() == ['"woke after 10ms"']
    assert durable.stdout == native.stdout
    assert "temporal dev server" in durable.stderr


def test_a_failing_workflow_prints_one_error_line_and_exits_1(tmp_path: Path) -> None:
    roots = [str(APPS / "base-native"), str(APPS / "base-temporal"), str(APPS / "ex11")]
    memory = ["--override", 'app:temporal:dev_server.database_file=":memory:"']
    result = orrery(
        "run", *roots, *memory, "--exec", "ex.family:broken", "--host", "app:worker", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"error": {"kind": "NotFound", "message": "ledger missing"}}
