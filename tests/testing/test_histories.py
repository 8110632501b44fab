"""Histories as regression tests: saved by the kit or exported by the Temporal CLI, replayed.

One session Temporal server (the plugin's ``temporal_server``) serves these
tests; each node runs on a task queue of its own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
import trio
from orrery.errors import InvalidError, NondeterminismError
from orrery.hosts.temporal._devserver import find_temporal_binary
from orrery.testing import TemporalTestServer, assert_replays, load_histories, save_histories

DURABLE = Path(__file__).parent / "apps" / "durable"


async def record(node_factory, folder: Path) -> list[Path]:
    """Runs one order workflow on the session server and saves its history."""
    async with node_factory(DURABLE, temporal=True) as node:
        with trio.fail_after(60):
            result = await node.exec("dur:order", "dur:worker", "o-1")
        assert result == ["reserve:o-1", "charge:o-1"]
        return await save_histories(node, folder)


async def test_saved_and_cli_exported_histories_replay_against_unchanged_code(
    node_factory, temporal_server: TemporalTestServer, tmp_path: Path
) -> None:
    saved = await record(node_factory, tmp_path / "saved")
    assert len(saved) == 1  # only this node's workflow, though the server is shared
    workflow_id = load_histories(saved[0])[0].workflow_id
    assert saved[0].name == f"{quote(workflow_id, safe='')}.json"
    exported = tmp_path / "cli" / f"{workflow_id}.json"
    exported.parent.mkdir()
    shown = subprocess.run(
        [
            find_temporal_binary(),
            *("workflow", "show", "--output", "json"),
            *("--address", temporal_server.address, "--workflow-id", workflow_id),
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    exported.write_text(shown.stdout)
    [from_cli] = load_histories(exported.parent)
    [from_kit] = load_histories(tmp_path / "saved")
    assert from_cli.workflow_id == from_kit.workflow_id == workflow_id
    assert len(from_cli.events) == len(from_kit.events) > 5
    await trio.to_thread.run_sync(assert_replays, DURABLE, tmp_path / "saved")
    await trio.to_thread.run_sync(assert_replays, DURABLE, [from_cli])


async def test_a_changed_order_of_commands_fails_replay_naming_the_lua_line(
    node_factory, tmp_path: Path
) -> None:
    await record(node_factory, tmp_path / "histories")
    changed = tmp_path / "app"
    shutil.copytree(DURABLE, changed)
    source = (changed / "order.lua").read_text()
    # sleep before reserving: the first command is now a timer, the history has an activity
    lines = source.splitlines(keepends=True)
    reserve = next(i for i, line in enumerate(lines) if '"reserve"' in line)
    lines[reserve], lines[reserve + 1] = lines[reserve + 1], lines[reserve]
    swapped = "".join(lines)
    assert "time.sleep" in lines[reserve]
    (changed / "order.lua").write_text(swapped)
    with pytest.raises(NondeterminismError) as caught:
        await trio.to_thread.run_sync(assert_replays, changed, tmp_path / "histories")
    assert "dur:order" in str(caught.value)
    where = caught.value.details["lua_location"]
    # a line of the two swapped commands (the timer, now line 6, or the reserve call, now 7)
    assert where.endswith((f"order.lua:{reserve + 1}", f"order.lua:{reserve + 2}"))


def test_loading_a_file_that_is_no_history_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "wf-1.json"
    bad.write_text('{"events": [{"eventId": "one"}]}')
    with pytest.raises(InvalidError, match=r"wf-1.json is not a workflow history"):
        load_histories(tmp_path)
    with pytest.raises(InvalidError, match="no history file or folder at"):
        load_histories(tmp_path / "missing")
