"""orrery.aio: a node embedded in a plain ``asyncio.run()`` program (trio in guest mode)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orrery
import orrery.aio
import pytest
from orrery.testing import TemporalTestServer, node_overrides

KIT = Path(__file__).parent / "apps" / "kit"
DURABLE = Path(__file__).parent / "apps" / "durable"


def test_an_asyncio_program_spawns_sends_and_receives(tmp_path: Path) -> None:
    async def main() -> dict[str, object]:
        seen: dict[str, object] = {}
        async with orrery.aio.open_node(KIT, node_overrides(KIT), state_dir=tmp_path) as node:
            pid = await node.spawn("kit:echo", "kit:processes", 2)
            async with node.mailbox() as me:
                await me.monitor(pid)
                ticks = []

                async def ticker() -> None:  # the asyncio loop keeps running meanwhile
                    for i in range(3):
                        ticks.append(i)
                        await asyncio.sleep(0)

                await asyncio.gather(ticker(), node.send(pid, "ping", {"n": 1}, sender=me.pid))
                seen["first"] = (await me.receive(timeout=5)).payload
                await node.send(pid, "ping", [1, 2], sender=me.pid)
                seen["second"] = (await me.receive(timeout=5)).payload
                seen["exit"] = (await me.next_event(timeout=5)).payload["result"]
                seen["ticks"] = ticks
                with pytest.raises(TimeoutError):
                    await me.receive(timeout=0.05)
                with pytest.raises(TimeoutError):  # asyncio's own timeout cancels the wait
                    await asyncio.wait_for(me.receive(), 0.05)
            result = await node.run_process("kit:boom", "kit:processes", "no")
            assert result.error is not None
            seen["boom"] = (result.error.kind, "boom.lua:2: no" in result.error.message)
            with pytest.raises(orrery.errors.NotFound):
                await node.call("kit:nothing")
        return seen

    assert asyncio.run(main()) == {
        "first": {"n": 1},
        "second": [1, 2],
        "exit": {"value": "done"},
        "ticks": [0, 1, 2],
        "boom": ("Internal", True),
    }


def test_a_bad_app_fails_open_node_with_the_registry_problems(tmp_path: Path) -> None:
    (tmp_path / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: bad\nentries:\n  - {name: x, kind: process.nope}\n'
    )

    async def main() -> None:
        async with orrery.aio.open_node(tmp_path, state_dir=tmp_path / "state"):
            pass  # pragma: no cover - never reached

    with pytest.raises(orrery.errors.RegistryError, match="bad:x"):
        asyncio.run(main())


def test_a_durable_workflow_runs_from_asyncio_next_to_the_sdk_loop(
    temporal_server: TemporalTestServer, tmp_path: Path
) -> None:
    overrides = node_overrides(DURABLE, address=temporal_server.address, task_queue="aio-1")

    async def main() -> object:
        async with orrery.aio.open_node(DURABLE, overrides, state_dir=tmp_path) as node:
            return await asyncio.wait_for(node.exec("dur:order", "dur:worker", "o-9"), 60)

    assert asyncio.run(main()) == ["reserve:o-9", "charge:o-9"]
