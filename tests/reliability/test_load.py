"""Load without loss (issue #5): a million messages between Lua processes, and process churn.

Memory figures are the Lua heap (``collectgarbage("count")``, exact) and the RSS of the test
process. Timings are printed by ``bench/reliability.py``, never asserted here.
"""

from __future__ import annotations

from pathlib import Path

import orrery
from orrery.runtime._node import Node

from ._memory import sample_peaks, settled_rss_bytes

APP = Path(__file__).parent / "apps" / "load"
MiB = 1024 * 1024


async def _call(node: Node, entry: str, *args: object) -> dict[str, int]:
    return await node.call(entry, *args)


async def test_a_million_messages_from_100_senders_arrive_complete_and_in_order() -> None:
    """100 senders x 10,000 messages into one receiver with a bounded mailbox (capacity 1,000,
    overflow block): every message arrives, each sender's messages in order, and the Lua heap
    never grows by more than 16 MiB above its start (unbounded, the backlog alone could reach
    tens of MiB when the senders outrun the receiver)."""
    async with orrery.open_node([APP]) as node:
        engine = node.native.engine
        engine.collect()
        start = engine.memory_used()
        async with sample_peaks(engine.memory_used) as peak:
            report = await _call(node, "load:fanin", 100, 10_000)
        assert node.native.process_count() == 0
    assert report == {
        "received": 1_000_000,
        "order_violations": 0,
        "foreign": 0,
        "complete_senders": 100,
    }
    assert peak.lua - start < 16 * MiB


async def test_spawn_and_exit_leaves_no_trace() -> None:
    """100,000 processes, each with a name, a link, a monitor, a subscription and (every other
    one) a bounded mailbox, spawn, answer one message and exit, 1,000 alive at a time: the Lua
    heap returns to within 2 % and the RSS to within 5 % of their values after a 20,000-process
    warm-up (bench/reliability.py runs the full million)."""
    async with orrery.open_node([APP]) as node:
        engine = node.native.engine
        warm = await _call(node, "load:churn", 20_000, 1_000)
        assert warm == {"answers": 20_000, "exits": 20_000}
        engine.collect()
        lua0, rss0 = engine.memory_used(), settled_rss_bytes()
        result = await _call(node, "load:churn", 100_000, 1_000)
        engine.collect()
        lua1, rss1 = engine.memory_used(), settled_rss_bytes()
        assert node.native.process_count() == 0
        assert node.native.lookup("w100000") is None
    assert result == {"answers": 100_000, "exits": 100_000}
    assert lua1 <= lua0 * 1.02
    assert rss1 <= rss0 * 1.05
