"""The workflow Lua state of a worker has the node's memory limit (docs/sandbox.md).

A workflow that allocates past ``lua_memory_limit`` (here ``open_node(max_memory=...)``)
fails with ``Internal: <entry>: out of memory``, cannot catch that, and is not retried
(it would fail the same way again). The worker keeps running and a neighbour workflow
resident in the same Lua state still answers.
"""

from __future__ import annotations

from pathlib import Path

import orrery
import trio

APP = Path(__file__).parent / "apps" / "wfmemory"
LIMIT = 16 * 1024 * 1024


async def test_a_workflow_growing_past_the_limit_fails_and_its_neighbour_answers() -> None:
    async with orrery.open_node([APP], max_memory=LIMIT) as node:
        with trio.fail_after(60):
            results = {
                e: await node.call("t.wfmem:cases", e) for e in ("grow_table", "grow_in_pcall")
            }
        worker = next(s for s in node.services() if s.id == "t.wfmem:worker")
    for entry, result in results.items():
        assert result == {
            "kind": "Internal",
            "message": (
                f"t.wfmem:{entry}: out of memory (the node's Lua memory limit of 16 MiB was "
                "reached)"
            ),
            "neighbour": 42,
        }
    assert (worker.state, worker.failures) == ("running", 0)
