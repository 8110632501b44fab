"""``orrery ps / tree / inspect`` against a real ``orrery run`` in the background.

One node (the ``watch`` app) serves every test of the module: a registered hub that
links one peer, monitors another and leaves two messages unread; a ``one_for_one``
supervisor whose child ``first`` crashed once and was restarted; an unobserved
process that failed. The node logs in JSON, so the log tests read its stderr.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._node import APPS, RunningNode, orrery

WATCH = str(APPS / "watch")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("observed")
    running = RunningNode(base, base / "state", WATCH, "--log-format", "json")
    running.wait_for("crew member first restarted", "node local is running")
    yield running
    assert running.stop() == 0


def json_of(done) -> Any:
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


def by_name(processes: list[dict], name: str) -> dict:
    return next(p for p in processes if name in p["names"])


def test_ps_json_lists_every_process_with_links_monitors_mailbox_and_names(node) -> None:
    snapshot = json_of(node.observe("ps", "--json"))
    processes = snapshot["processes"]
    hub = by_name(processes, "hub")
    assert hub["entry"] == "watch:hub" and hub["host"] == "watch:procs"
    assert hub["state"] == "waiting"
    assert hub["mailbox"] == 2  # the two "unread" messages
    (linked,) = hub["links"]
    (watched,) = hub["monitors"]
    pids = {p["pid"]: p for p in processes}
    assert pids[linked]["links"] == [hub["pid"]]
    assert pids[watched]["monitored_by"] == [hub["pid"]]
    assert {p["entry"] for p in processes} == {"watch:hub", "watch:peer", "watch:member"}
    assert by_name(processes, "first")["pid"] != by_name(processes, "second")["pid"]
    assert snapshot["workflows"] == [] and snapshot["workflows_error"] is None


def test_ps_prints_a_table_one_row_per_process(node) -> None:
    done = node.observe("ps")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == [
        "PID", "ENTRY", "HOST", "STATE", "MAILBOX", "LINKS", "MONITORS", "NAME",
    ]  # fmt: skip
    hub_row = next(r for r in rows if r.endswith(" hub"))
    assert hub_row.split()[1:] == ["watch:hub", "watch:procs", "waiting", "2", "1", "1", "hub"]
    assert len(rows) == len(json_of(node.observe("ps", "--json"))["processes"])


def test_tree_shows_services_and_the_restarted_child(node) -> None:
    tree = json_of(node.observe("tree", "--json"))
    services = {s["id"]: s for s in tree["services"]}
    assert set(services) == {"watch:procs", "watch:hub_svc", "watch:crew"}
    assert services["watch:hub_svc"]["state"] == "running"
    assert services["watch:hub_svc"]["pid"].startswith("{local@watch:procs|")
    crew = services["watch:crew"]["supervisor"]
    assert crew["strategy"] == "one_for_one"
    children = {c["id"]: c for c in crew["children"]}
    assert children["first"]["restarts"] == 1
    assert "first crashed" in children["first"]["last_error"]
    assert children["second"]["restarts"] == 0

    text = node.observe("tree").stdout.splitlines()
    crew_line = next(i for i, line in enumerate(text) if line.startswith("watch:crew "))
    assert "running" in text[crew_line] and "strategy=one_for_one" in text[crew_line]
    assert text[crew_line + 1].startswith("├─ first (process) running {local@")
    assert "restarts=1" in text[crew_line + 1]
    assert text[crew_line + 2].startswith("└─ second (process) running")


def test_inspect_by_name_and_by_pid_shows_one_process_and_its_service(node) -> None:
    by_name_record = json_of(node.observe("inspect", "hub", "--json"))
    assert by_name_record["kind"] == "process"
    assert by_name_record["service"] == "watch:hub_svc"
    assert by_name_record["listening"] == ["started"]
    assert by_name_record["events"] is True and by_name_record["inbox"] is False
    pid = by_name_record["pid"]
    assert json_of(node.observe("inspect", pid, "--json"))["pid"] == pid

    first = json_of(node.observe("inspect", "first", "--json"))
    assert first["service"] == "watch:crew/first"

    text = node.observe("inspect", pid).stdout
    assert f"PID:          {pid}\n" in text
    assert "mailbox:      2\n" in text and "names:        hub\n" in text


def test_inspect_of_an_unknown_process_fails_with_status_1(node) -> None:
    done = node.observe("inspect", "{local@watch:procs|0xfffff}")
    assert (done.returncode, done.stdout) == (1, "")
    assert "NotFound" in done.stderr and "0xfffff" in done.stderr


def test_json_logs_carry_pid_entry_and_host_of_the_process(node) -> None:
    records = [json.loads(line) for line in node.lines if line.startswith("{")]
    assert len(records) == len(node.lines)  # every stderr line is one JSON object
    ready = next(r for r in records if r["message"] == "hub ready")
    assert ready["entry"] == "watch:hub" and ready["host"] == "watch:procs"
    assert ready["pid"].startswith("{local@watch:procs|")
    assert set(ready["fields"]) == {"linked", "watched"}
    failed = next(r for r in records if r["message"].startswith("process failed"))
    assert (failed["level"], failed["entry"], failed["host"]) == (
        "warning", "watch:doomed", "watch:procs",
    )  # fmt: skip
    assert "doomed on purpose" in failed["message"]


def test_without_a_node_the_commands_fail_with_status_3_naming_the_state_dir(
    tmp_path: Path,
) -> None:
    for command in (["ps"], ["tree"], ["inspect", "hub"]):
        done = orrery(*command, "--state-dir", str(tmp_path / "none"), cwd=tmp_path)
        assert (done.returncode, done.stdout) == (3, "")
        assert "no orrery node is running" in done.stderr and str(tmp_path / "none") in done.stderr


def test_default_state_dir_is_dot_orrery_as_for_run(tmp_path: Path) -> None:
    done = orrery("ps", cwd=tmp_path)
    assert done.returncode == 3
    assert f"nothing answers on {tmp_path / '.orrery' / 'node.sock'}" in done.stderr


def test_a_stale_socket_is_replaced_and_the_socket_goes_away_at_stop(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(state / "node.sock"))  # left by a node that was killed
    stale.close()
    running = RunningNode(tmp_path, state, WATCH)
    running.wait_for("node local is running")
    assert json_of(running.observe("ps", "--json"))["node"] == "local"
    assert oct(os.stat(state / "node.sock").st_mode & 0o777) == "0o600"
    assert running.stop() == 0
    assert not (state / "node.sock").exists()


# -- text from Lua cannot forge lines or reach the terminal (docs/sandbox.md) ----------------

FORGER_INDEX = """\
version: "1.0"
namespace: forge
entries:
  - {name: procs, kind: process.host, lifecycle: {auto_start: true}}
  - {name: forger, kind: process.lua, source: file://forger.lua, modules: [logger]}
  - {name: forger_svc, kind: process.service, process: forger, host: procs,
     lifecycle: {auto_start: true}}
"""

# Registers a name and listens to a topic with escape sequences and newlines, prints and
# logs text that would forge log lines, then waits.
FORGER_LUA = r"""
local logger = require("logger")
return {main = function()
  assert(process.registry.register("evil\27[31mname\nrow"))
  process.listen("news\27[2J\r\nforged")
  print("printed\nINFO fake line\r\27[2Kerased\u{85}end")
  logger:info("logged\nWARNING fake", {note = "a\tb\nc"})
  logger:info("forger ready")
  process.events():receive()
end}
"""


@pytest.fixture(scope="module")
def forger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("forger")
    app = base / "app"
    app.mkdir()
    (app / "_index.yaml").write_text(FORGER_INDEX)
    (app / "forger.lua").write_text(FORGER_LUA)
    running = RunningNode(base, base / "state", str(app))  # the text log format
    running.wait_for("forger ready")
    yield running
    assert running.stop() == 0


def test_print_with_newlines_and_escapes_is_one_escaped_log_line(forger) -> None:
    """print("a\\nINFO fake") is one line with a visible \\n; no ESC reaches stderr."""
    lines = [line for line in forger.lines if "orrery.lua" in line or "fake" in line]
    printed = [line for line in lines if "printed" in line]
    assert len(printed) == 1, lines
    assert printed[0].endswith(
        " INFO    orrery.lua: printed\\nINFO fake line\\r\\x1b[2Kerased\\u0085end "
        "[forge:forger {local@forge:procs|" + printed[0].rsplit("|", 1)[1]
    )
    (logged,) = [line for line in lines if "logged" in line]
    assert " INFO    orrery.lua: logged\\nWARNING fake note=a\\tb\\nc [forge:forger " in logged
    assert not any(line.startswith(("INFO fake", "WARNING fake", "c [")) for line in lines)
    assert not any("\x1b" in line or "\r" in line or "\x85" in line for line in forger.lines)


def test_ps_shows_a_name_with_an_escape_sequence_escaped_on_one_row(forger) -> None:
    done = forger.observe("ps")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    header, *rows = done.stdout.splitlines()
    assert header.startswith("PID ")
    processes = json_of(forger.observe("ps", "--json"))["processes"]
    assert len(rows) == len(processes) == 1
    assert processes[0]["names"] == ["evil\x1b[31mname\nrow"]  # JSON keeps the exact name
    assert rows[0].endswith("  evil\\x1b[31mname\\nrow")


def test_inspect_shows_a_topic_with_control_characters_escaped(forger) -> None:
    done = forger.observe("inspect", "evil\x1b[31mname\nrow")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    assert fields["names"].strip() == "evil\\x1b[31mname\\nrow"
    assert fields["listening to"].strip() == "news\\x1b[2J\\r\\nforged"
    missing = forger.observe("inspect", "no\x1b[2Jsuch")
    assert missing.returncode == 1
    assert "\x1b" not in missing.stderr and "no\\x1b[2Jsuch" in missing.stderr
