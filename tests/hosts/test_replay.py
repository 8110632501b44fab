"""Recorded workflow histories replay against the Lua code with the SDK's Replayer."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orrery
import trio
from orrery.hosts.temporal._replay import replay
from orrery.runtime._node import load

APPS = Path(__file__).parent.parent / "conformance" / "apps"
IN_MEMORY = ['app:temporal:dev_server.database_file=":memory:"']


async def record_saga_histories() -> list[Any]:
    dirs = [APPS / "base-native", APPS / "base-temporal", APPS / "ex06"]
    async with orrery.open_node(dirs, IN_MEMORY) as node:
        with trio.fail_after(60):
            await node.call("ex.saga:main")
        client = node.temporal.router.clients["app:temporal"]

        async def fetch() -> list[Any]:
            histories = []
            async for wf in client.list_workflows("WorkflowType = 'ex.saga:fulfil'"):
                histories.append(await client.get_workflow_handle(wf.id).fetch_history())
            return histories

        return await node.temporal.bridge.run(fetch)


def run_replay(dirs: list[Path], histories: list[Any]) -> list[Any]:
    registry = load(dirs, IN_MEMORY)
    return asyncio.run(replay(registry, histories, worker="app:worker", task_queue="examples"))


async def test_saga_histories_replay_without_nondeterminism(tmp_path: Path) -> None:
    histories = await record_saga_histories()
    assert len(histories) == 3
    dirs = [APPS / "base-native", APPS / "base-temporal", APPS / "ex06"]
    outcomes = await trio.to_thread.run_sync(run_replay, dirs, histories)
    assert [o.error for o in outcomes] == [None, None, None]


async def test_changed_code_fails_replay_naming_the_lua_line(tmp_path: Path) -> None:
    histories = await record_saga_histories()
    changed = tmp_path / "ex06"
    shutil.copytree(APPS / "ex06", changed)
    source = (changed / "fulfil.lua").read_text()
    # payment before stock: the first activity no longer matches the history
    lines = source.splitlines(keepends=True)
    stock = next(i for i, line in enumerate(lines) if 'step = "stock"' in line)
    payment = next(i for i, line in enumerate(lines) if 'step = "payment"' in line)
    lines[stock], lines[payment] = lines[payment], lines[stock]
    swapped = "".join(lines)
    assert swapped != source
    (changed / "fulfil.lua").write_text(swapped)
    call_line = next(
        i for i, line in enumerate(swapped.splitlines(), 1) if "once:call(p.run, order)" in line
    )
    dirs = [APPS / "base-native", APPS / "base-temporal", changed]
    outcomes = await trio.to_thread.run_sync(run_replay, dirs, histories)
    errors = [o.error for o in outcomes]
    assert all(e is not None for e in errors)
    assert all(e.lua_location.endswith(f"fulfil.lua:{call_line}") for e in errors)
    assert "ex.saga:fulfil" in str(errors[0])
