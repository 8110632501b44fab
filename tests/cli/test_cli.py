"""The command line: check, call and run --exec.

See docs/reference/cli.md; docs/reference/yaml-kinds.md, "Errors".

Every test runs ``python -m orrery`` in a subprocess and checks the exact
contract of docs/reference/cli.md: what goes to stdout (one JSON line, or nothing), that logs
and messages go to stderr, and the exit status (0 ok, 1 failed, 2 usage).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

APPS = Path(__file__).parent.parent / "conformance" / "apps"
BASE = str(APPS / "base-native")
CLI_APP = str(APPS / "cli")


def orrery(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orrery", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def call(tmp_path: Path, entry: str, *json_args: str) -> subprocess.CompletedProcess[str]:
    return orrery(
        "call", "--root", BASE, "--root", CLI_APP, "--state-dir", str(tmp_path / "state"),
        entry, *json_args, cwd=tmp_path,
    )  # fmt: skip


def run_exec(tmp_path: Path, *args: str, roots: tuple[str, ...] = (BASE, CLI_APP)):
    return orrery("run", *roots, "--state-dir", str(tmp_path / "state"), *args, cwd=tmp_path)


def one_line(out: str) -> str:
    """The single stdout line (fails when stdout is not exactly one line)."""
    lines = out.split("\n")
    assert len(lines) == 2 and lines[1] == "", f"expected exactly one line, got {out!r}"
    return lines[0]


def same_types(actual: object, expected: object) -> bool:
    """Deep equality that tells 2 from 2.0 and {} from []."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, dict):
        assert isinstance(actual, dict)
        return actual.keys() == expected.keys() and all(
            same_types(actual[k], expected[k]) for k in expected
        )
    if isinstance(expected, list):
        assert isinstance(actual, list)
        return len(actual) == len(expected) and all(
            same_types(a, e) for a, e in zip(actual, expected, strict=True)
        )
    return actual == expected


# -- bad input ---------------------------------------------------------------------------

ENTRY_HEAD = 'version: "1.0"\nnamespace: {ns}\nentries:\n'

#: Folder -> (files, fragments the report must contain).
BAD_APPS: dict[str, tuple[dict[str, str], list[str]]] = {
    "yaml_syntax": (
        {"_index.yaml": ENTRY_HEAD.format(ns="b.yaml") + "  - name: x\n    kind: [unclosed\n"},
        ["yaml_syntax/_index.yaml", "YAML"],
    ),
    "unknown_kind": (
        {"_index.yaml": ENTRY_HEAD.format(ns="b.kind") + "  - {name: odd, kind: frobnicator}\n"},
        ["unknown_kind/_index.yaml:4", '"b.kind:odd"', "frobnicator"],
    ),
    "unsupported_kind": (
        {"_index.yaml": ENTRY_HEAD.format(ns="b.web") + "  - {name: web, kind: http.service}\n"},
        ['kind "http.service" is not supported by orrery'],
    ),
    "missing_field": (
        {"_index.yaml": ENTRY_HEAD.format(ns="b.field") + "  - {name: fn, kind: function.lua}\n"},
        ["missing_field/_index.yaml:4", '"b.field:fn"', 'field "source"', "missing"],
    ),
    "lua_syntax": (
        {
            "_index.yaml": ENTRY_HEAD.format(ns="b.syntax")
            + "  - {name: fn, kind: function.lua, source: file://broken.lua}\n",
            "broken.lua": "local M = {}\n\nfunction M.main(\n  return 1\nend\nreturn M\n",
        },
        ["broken.lua:4", '"b.syntax:fn"'],
    ),
    "top_level_raises": (
        {
            "_index.yaml": ENTRY_HEAD.format(ns="b.top")
            + "  - {name: fn, kind: function.lua, source: file://top.lua}\n",
            "top.lua": 'local M = {}\nerror("top level went wrong")\nreturn M\n',
        },
        ["top.lua:2", '"b.top:fn"', "top level went wrong"],
    ),
    "no_method": (
        {
            "_index.yaml": ENTRY_HEAD.format(ns="b.method")
            + "  - {name: fn, kind: function.lua, source: file://nm.lua, method: run}\n",
            "nm.lua": "return {main = function() end}\n",
        },
        ['"b.method:fn"', 'field "method"', "run"],
    ),
}


def write_app(root: Path, folder: str) -> None:
    files, _ = BAD_APPS[folder]
    (root / folder).mkdir(parents=True)
    for name, text in files.items():
        (root / folder / name).write_text(text)


@pytest.mark.parametrize("folder", list(BAD_APPS))
def test_check_reports_a_problem_on_stderr_with_exit_2(tmp_path: Path, folder: str) -> None:
    """orrery check prints the problem (file, entry, field or Lua line) on stderr and exits 2."""
    write_app(tmp_path / "app", folder)
    done = orrery("check", str(tmp_path / "app"), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    for fragment in BAD_APPS[folder][1]:
        assert fragment in done.stderr, f"{fragment!r} missing from:\n{done.stderr}"


def test_check_reports_every_problem_not_only_the_first(tmp_path: Path) -> None:
    """With several broken files, every problem is printed."""
    for folder in BAD_APPS:
        write_app(tmp_path / "app", folder)
    done = orrery("check", str(tmp_path / "app"), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    for folder, (_, fragments) in BAD_APPS.items():
        for fragment in fragments:
            assert fragment in done.stderr, f"{folder}: {fragment!r} missing:\n{done.stderr}"


def test_check_of_a_valid_app_exits_0(tmp_path: Path) -> None:
    """A clean registry passes check with status 0 and nothing on stdout."""
    done = orrery("check", BASE, CLI_APP, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


@pytest.mark.parametrize("command", ["call", "run"])
def test_a_broken_registry_stops_call_and_run_with_exit_2(tmp_path: Path, command: str) -> None:
    """call and run --exec refuse to boot a registry with problems: stderr, exit 2."""
    write_app(tmp_path / "app", "lua_syntax")
    root = str(tmp_path / "app")
    if command == "call":
        done = orrery("call", "--root", root, "b.syntax:fn", cwd=tmp_path)
    else:
        done = orrery("run", root, "--exec", "b.syntax:fn", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert "broken.lua:4" in done.stderr


# -- orrery call ---------------------------------------------------------------------------


def test_call_of_an_unknown_entry_is_a_usage_error(tmp_path: Path) -> None:
    """An entry that does not exist: message naming it on stderr, nothing on stdout, exit 2."""
    done = call(tmp_path, "t.cli:nope")
    assert (done.returncode, done.stdout) == (2, "")
    assert "t.cli:nope" in done.stderr


def test_call_of_a_process_entry_is_a_usage_error(tmp_path: Path) -> None:
    """call only runs function.lua entries; a process.lua is refused with exit 2."""
    done = call(tmp_path, "t.cli:job")
    assert (done.returncode, done.stdout) == (2, "")
    assert "t.cli:job" in done.stderr


def test_call_with_a_bad_json_argument_is_a_usage_error(tmp_path: Path) -> None:
    """An argument that is not JSON: stderr, nothing on stdout, exit 2."""
    done = call(tmp_path, "t.cli:add", "1", "{bad")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip()


def test_call_of_a_failing_function_prints_one_error_line_and_exits_1(tmp_path: Path) -> None:
    """nil, errors.new{...} prints exactly {"error": {"kind": K, "message": M}} and exits 1."""
    done = call(tmp_path, "t.cli:fail")
    assert done.returncode == 1
    assert done.stdout == '{"error": {"kind": "Conflict", "message": "order 7 is taken"}}\n'


def test_call_of_a_raising_function_prints_an_internal_error(tmp_path: Path) -> None:
    """A raised error is reported as kind Internal with its text, exit 1."""
    done = call(tmp_path, "t.cli:raiser")
    assert done.returncode == 1
    error = json.loads(one_line(done.stdout))["error"]
    assert error["kind"] == "Internal"
    assert error["message"].endswith("fns.lua:23: exploded")


def test_call_prints_the_result_as_one_json_line(tmp_path: Path) -> None:
    """Whole floats keep a fraction, empty tables are {}, sparse keys are strings, exit 0."""
    done = call(tmp_path, "t.cli:values")
    assert done.returncode == 0, done.stderr
    line = one_line(done.stdout)
    value = json.loads(line)
    assert re.fullmatch(r"\{local@orrery:functions\|0x[0-9a-f]{5,}\}", value.pop("pid"))
    assert same_types(
        value,
        {
            "whole_float": 2.0,
            "int": 3,
            "half": 0.5,
            "empty": {},
            "list": [1, 2, 3],
            "sparse": {"1": "a", "3": "c"},
            "text": "h\u00e9llo",
            "flag": True,
            "err": {"kind": "Conflict", "message": "as a value"},
        },
    ), line
    assert re.search(r'"whole_float":\s*2\.0\b', line)


def test_call_decodes_every_json_argument(tmp_path: Path) -> None:
    """Each JSON_ARG is one positional argument."""
    done = call(tmp_path, "t.cli:add", "2", "3")
    assert (done.returncode, done.stdout) == (0, "5\n")
    done = call(tmp_path, "t.cli:echo", "1", "2.5", '"x"', '{"a": [1, true]}')
    assert done.returncode == 0
    assert same_types(json.loads(one_line(done.stdout)), [1, 2.5, "x", {"a": [1, True]}])


def test_call_of_a_function_returning_nothing_prints_null(tmp_path: Path) -> None:
    """No return value renders as null."""
    done = call(tmp_path, "t.cli:nothing")
    assert (done.returncode, done.stdout) == (0, "null\n")


def test_print_goes_to_stderr_and_stdout_keeps_only_the_result(tmp_path: Path) -> None:
    """Lua print() output is a log line on stderr; stdout holds only the result line."""
    done = call(tmp_path, "t.cli:chatty")
    assert (done.returncode, done.stdout) == (0, '"quiet stdout"\n')
    assert "this goes to the log" in done.stderr


def test_a_result_with_invalid_utf8_is_an_invalid_error(tmp_path: Path) -> None:
    """A string that is not valid UTF-8 cannot be rendered: error line of kind Invalid, exit 1."""
    done = call(tmp_path, "t.cli:not_utf8")
    assert done.returncode == 1
    assert json.loads(one_line(done.stdout))["error"]["kind"] == "Invalid"


# -- orrery run --exec -----------------------------------------------------------------------


def test_run_exec_prints_the_process_result(tmp_path: Path) -> None:
    """With one process.host, --exec runs there with --input as argument; one line, exit 0."""
    done = run_exec(tmp_path, "--exec", "t.cli:job", "--input", '{"n": 1}')
    assert done.returncode == 0, done.stderr
    assert json.loads(one_line(done.stdout)) == {"got": {"n": 1}, "pid_host": "app:processes"}
    assert "running the job" in done.stderr


def test_run_exec_of_a_failing_process_prints_its_error_and_exits_1(tmp_path: Path) -> None:
    """A process that returns an error: one error line, exit 1."""
    done = run_exec(tmp_path, "--exec", "t.cli:job_fail", "--input", '{"n": 7}')
    assert done.returncode == 1
    assert done.stdout == '{"error": {"kind": "Unavailable", "message": "no capacity for 7"}}\n'


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--exec", "t.cli:nope"], id="unknown entry"),
        pytest.param(["--exec", "t.cli:job", "--host", "app:nowhere"], id="unknown host"),
        pytest.param(["--exec", "t.cli:job", "--input", "{not json"], id="bad input"),
    ],
)
def test_run_exec_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    """Unknown entry, unknown host or bad --input JSON: stderr, nothing on stdout, exit 2."""
    done = run_exec(tmp_path, *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip()


def test_run_exec_needs_host_when_there_are_several_hosts(tmp_path: Path) -> None:
    """Without --host and with two process.host entries, run --exec is a usage error."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: second\nentries:\n'
        "  - {name: hosts, kind: process.host, lifecycle: {auto_start: true}}\n"
    )
    done = run_exec(tmp_path, "--exec", "t.cli:job", roots=(BASE, CLI_APP, str(extra)))
    assert (done.returncode, done.stdout) == (2, "")
    done = run_exec(
        tmp_path, "--exec", "t.cli:job", "--host", "second:hosts",
        roots=(BASE, CLI_APP, str(extra)),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(one_line(done.stdout)) == {"pid_host": "second:hosts"}


# -- the state dir -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "run --exec"])
def test_a_state_dir_that_is_a_file_is_a_usage_error(tmp_path: Path, command: str) -> None:
    """--state-dir naming a file: one line on stderr naming it, nothing on stdout, exit 2."""
    (tmp_path / "afile").write_text("not a directory\n")
    extra = ["--exec", "t.cli:job"] if "--exec" in command else []
    done = orrery("run", BASE, CLI_APP, "--state-dir", "afile", *extra, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "orrery: state dir afile exists and is not a directory; pass a directory the node "
        "can write to with --state-dir\n"
    )


def test_a_state_dir_that_cannot_be_created_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a directory\n")
    done = orrery(
        "run", BASE, CLI_APP, "--state-dir", "afile/state", "--exec", "t.cli:job", cwd=tmp_path
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "orrery: cannot create state dir afile/state: Not a directory; pass a directory the "
        "node can write to with --state-dir\n"
    )


def test_the_default_state_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    """Without --state-dir the node uses .orrery in the first root; the message says so."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: app\nentries:\n  - {name: hosts, kind: process.host}\n'
    )
    (app / ".orrery").write_text("")
    done = orrery("run", "app", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "orrery: state dir app/.orrery exists and is not a directory; pass a directory the "
        "node can write to with --state-dir (default: .orrery in the first root)\n"
    )


def test_a_new_state_dir_is_private(tmp_path: Path) -> None:
    """The node creates its state dir readable by its owner only (0700)."""
    done = orrery(
        "run", BASE, CLI_APP, "--state-dir", "fresh/state", "--exec", "t.cli:job", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "fresh" / "state").stat().st_mode & 0o777 == 0o700


# -- orrery run (a long-running node) ----------------------------------------------------


class Node:
    """``orrery run`` in a subprocess; a thread collects its stderr lines as they come."""

    def __init__(self, tmp_path: Path, *apps: str, extra: tuple[str, ...] = ()) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orrery", "run", BASE, *(str(APPS / a) for a in apps),
             "--state-dir", str(tmp_path / "state"), *extra],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, *texts: str, timeout: float = 30) -> None:
        """Waits until every text appeared in some stderr line (in any order)."""

        def seen() -> bool:
            return all(any(t in line for line in self.lines) for t in texts)

        with self.changed:
            found = self.changed.wait_for(seen, timeout=timeout)
        if not found:
            self.proc.kill()
            _, _, err = self.finish()
            pytest.fail(f"{texts!r} did not all appear on stderr:\n{err}")

    def stop_with(self, signum: signal.Signals) -> tuple[int | None, str, str]:
        """Sends ``signum``; returns the exit status (None: it hung), stdout and stderr."""
        self.proc.send_signal(signum)
        try:
            self.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None, *self.finish()[1:]
        return self.finish()

    def finish(self) -> tuple[int | None, str, str]:
        """Waits for the exited process's output and closes its pipes."""
        self.proc.wait()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        out = self.proc.stdout.read()
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, out, "".join(self.lines)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_serves_until_a_signal_then_stops_services_and_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """orrery run keeps services up until SIGINT/SIGTERM, then stops them and exits 0."""
    node = Node(tmp_path, "cli_service")
    node.wait_for("keeper tick 2")  # the node has been serving for a while
    status, out, err = node.stop_with(signum)
    assert (status, out) == (0, ""), err[-3000:]
    assert "keeper stopping: pid.cancel" in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_boot_still_stops_running_services_gracefully(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """A signal while later services are still starting stops the started ones and exits 0.

    The embedded Temporal server is made to start after the service, so the signal
    arrives while boot is still in progress.
    """
    memory = 'app:temporal:dev_server.database_file=":memory:"'
    after = "app:temporal:lifecycle.requires=[t.svc:keeper_svc]"
    node = Node(
        tmp_path, "base-temporal", "cli_service", extra=("--override", memory, "--override", after)
    )
    node.wait_for("keeper ready")
    status, out, err = node.stop_with(signum)
    assert (status, out) == (0, ""), err[-3000:]
    assert "keeper stopping: pid.cancel" in err


def test_ctrl_c_while_a_process_computes_stops_the_node(tmp_path: Path) -> None:
    """SIGINT that arrives while Lua code runs is not an error of that process: the node stops."""
    node = Node(tmp_path, "cli_busy")
    node.wait_for("busy computing")
    status, out, err = node.stop_with(signal.SIGINT)
    assert (status, out) == (0, ""), err[-3000:]
    assert "busy stopping: pid.cancel" in err
    assert "failed" not in err
