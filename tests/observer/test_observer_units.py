"""The observer's pieces on their own: formats, socket path, UI links, log records."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import orrery
import pytest
from orrery.hosts.temporal._observe import workflow_link
from orrery.runtime._errors import InvalidError, RegistryError
from orrery.runtime._logging import host_of_pid
from orrery.runtime._node import load
from orrery.runtime._observer_format import format_inspect, format_ps, format_tree, table
from orrery.runtime._observer_protocol import MAX_SOCKET_PATH, socket_path

from ._node import APPS

PROC = {
    "pid": "{n@a:h|0x00001}", "entry": "a:p", "host": "a:h", "state": "waiting",
    "mailbox": 3, "links": ["{n@a:h|0x00002}"], "monitors": [], "monitored_by": [],
    "names": ["one", "two"],
}  # fmt: skip
WORKFLOW = {
    "pid": "{a:t@a:w|wf-1}", "entry": "a:order", "host": "a:w", "status": "running",
    "workflow_id": "wf-1", "run_id": "r1", "task_queue": "q", "started": "2026-01-01T00:00:00",
    "history_length": 7, "ui": "http://127.0.0.1:9/namespaces/default/workflows/wf-1/r1/history",
    "kind": "workflow", "closed": None,
}  # fmt: skip


def test_table_aligns_columns_and_shows_missing_values_as_dash() -> None:
    assert table(("A", "LONGER"), [("xyz", None), ("x", 12)]) == ("A    LONGER\nxyz  -\nx    12\n")


def test_ps_rows_count_links_and_monitors_and_join_names() -> None:
    text = format_ps({"processes": [PROC], "workflows": [], "workflows_error": None})
    header, row = text.splitlines()
    assert row.split() == ["{n@a:h|0x00001}", "a:p", "a:h", "waiting", "3", "1", "0", "one,two"]
    assert header.index("ENTRY") == row.index("a:p")


def test_ps_lists_workflows_with_their_ui_link_and_reports_listing_errors() -> None:
    text = format_ps({"processes": [], "workflows": [WORKFLOW], "workflows_error": "Timeout: x"})
    lines = text.splitlines()
    assert lines[2].split() == ["WORKFLOW", "ENTRY", "HOST", "STATUS", "STARTED", "UI"]
    assert lines[3].split() == [
        "{a:t@a:w|wf-1}", "a:order", "a:w", "running", "2026-01-01T00:00:00", WORKFLOW["ui"],
    ]  # fmt: skip
    assert lines[-1] == "workflows could not be listed: Timeout: x"


def test_tree_draws_nested_supervisors_under_their_parent() -> None:
    leaf = {"id": "c", "kind": "process", "state": "running", "pid": "{p}", "restarts": 2,
            "last_error": "Internal: boom", "supervisor": None}  # fmt: skip
    inner = {"id": "inner", "strategy": "one_for_all", "state": "running", "recent_restarts": 0,
             "children": [leaf]}  # fmt: skip
    services = [
        {"id": "a:sup", "kind": "process.supervisor", "state": "running", "pid": None,
         "restarts": 1, "failures": 0, "last_error": None, "ui": None,
         "supervisor": {"id": "a:sup", "strategy": "rest_for_one", "state": "running",
                        "recent_restarts": 1, "children": [
                            {"id": "nested", "kind": "supervisor", "state": "running",
                             "pid": None, "restarts": 0, "last_error": None,
                             "supervisor": inner},
                            dict(leaf, id="last", restarts=0, last_error=None)]}},
        {"id": "a:t", "kind": "temporal.client", "state": "running", "pid": None,
         "restarts": 0, "failures": 0, "last_error": None, "ui": "http://u", "supervisor": None},
    ]  # fmt: skip
    assert format_tree({"services": services}).splitlines() == [
        "a:sup (process.supervisor) running restarts=1 strategy=rest_for_one recent_restarts=1",
        "├─ nested (supervisor) running restarts=0 strategy=one_for_all",
        "│  └─ c (process) running {p} restarts=2 last error: Internal: boom",
        "└─ last (process) running {p} restarts=0",
        "a:t (temporal.client) running restarts=0 ui=http://u",
    ]


def test_inspect_lists_fields_by_kind() -> None:
    text = format_inspect(dict(PROC, kind="process", service=None))
    assert "links:        {n@a:h|0x00002}\n" in text and "monitors:     -\n" in text
    assert "service:      -\n" in text and "names:        one, two\n" in text
    text = format_inspect(WORKFLOW)
    assert f"Web UI:         {WORKFLOW['ui']}\n" in text
    assert "status:         running\n" in text and "closed:         -\n" in text


def test_socket_lives_in_the_state_dir_unless_the_path_is_too_long(tmp_path: Path) -> None:
    assert socket_path(tmp_path / "s") == tmp_path / "s" / "node.sock"
    deep = tmp_path / ("d" * (MAX_SOCKET_PATH + 1))
    long_path = socket_path(deep)
    assert len(str(long_path)) <= MAX_SOCKET_PATH
    assert long_path == socket_path(deep) != socket_path(tmp_path / ("e" * (MAX_SOCKET_PATH + 1)))


def test_workflow_link_escapes_ids_and_needs_a_ui() -> None:
    assert workflow_link(None, "default", "w", "r") is None
    assert (
        workflow_link("http://h:1", "ns", "order 7/a", "r1")
        == "http://h:1/namespaces/ns/workflows/order%207%2Fa/r1/history"
    )


def test_host_of_pid() -> None:
    assert host_of_pid("{local@app:procs|0x00001}") == "app:procs"
    assert host_of_pid("{|system}") is None and host_of_pid(None) is None


def _client(tmp_path: Path, dev: str) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: app\nentries:\n'
        f"  - name: t\n    kind: temporal.client\n    dev_server: {dev}\n"
    )
    return tmp_path / "app"


def test_a_ui_port_turns_the_web_ui_on(tmp_path: Path) -> None:
    client = load([_client(tmp_path, "{ui_port: 8233}")]).client("app:t")
    assert client.dev_server is not None
    assert (client.dev_server.ui, client.dev_server.ui_port) == (True, 8233)


def test_a_ui_port_with_the_ui_off_is_a_registry_problem(tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as info:
        load([_client(tmp_path, "{ui: false, ui_port: 8233}")])
    assert "ui_port" in str(info.value) and "ui is false" in str(info.value)


def test_configure_logging_rejects_unknown_formats() -> None:
    with pytest.raises(InvalidError, match="log format"):
        orrery.configure_logging(fmt="xml")


async def test_json_logs_from_the_python_api_carry_the_process_fields() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    orrery.configure_logging("info", "json", stream=stream)
    try:
        async with orrery.open_node([APPS / "watch"], state_dir=None) as node:
            value = await node.exec("watch:say", "watch:procs", "hello")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert value == "hello"
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    said = next(r for r in records if r["logger"] == "orrery.lua" and r["message"] == "hello")
    assert said["level"] == "warning"
    assert (said["entry"], said["host"]) == ("watch:say", "watch:procs")
    assert said["pid"].startswith("{local@watch:procs|")
    assert said["fields"] == {"n": 1, "extra": "x"}
    assert said["time"].endswith("Z")
