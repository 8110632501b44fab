"""Reliability figures at full size: a million messages, a million spawn/exit, a 10,000 storm.

Runs the workloads of tests/reliability/ at the sizes issue #5 names and prints counts, memory
(Lua heap exact; RSS after ``malloc_trim``) and elapsed time next to a plain-trio baseline
measured in the same run (spawn/exit: a trio task started and finished per process; fan-in:
100 tasks sending 10,000 integers each into one memory channel of 1,000 slots).

    python bench/reliability.py            # 1,000,000 messages, 1,000,000 spawn/exit
    python bench/reliability.py --churn 200000
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import orrery
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

from _memory import sample_peaks, settled_rss_bytes  # noqa: E402

LOAD = ROOT / "tests" / "reliability" / "apps" / "load"
MiB = 1024 * 1024


async def _trio_fanin(senders: int, per_sender: int) -> float:
    send, receive = trio.open_memory_channel[int](1000)
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:

        async def sender(ch: trio.MemorySendChannel[int], base: int) -> None:
            async with ch:
                for seq in range(1, per_sender + 1):
                    await ch.send(base + seq)

        for s in range(1, senders + 1):
            nursery.start_soon(sender, send.clone(), s * 1_000_000)
        await send.aclose()
        async with receive:
            count = 0
            async for _ in receive:
                count += 1
    assert count == senders * per_sender
    return time.perf_counter() - started


async def _trio_churn(total: int, batch: int) -> float:
    started = time.perf_counter()
    done = 0

    async def worker() -> None:
        nonlocal done
        await trio.lowlevel.checkpoint()
        done += 1

    for _ in range(0, total, batch):
        async with trio.open_nursery() as nursery:
            for _ in range(batch):
                nursery.start_soon(worker)
    assert done == total
    return time.perf_counter() - started


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


async def main(churn: int) -> None:
    async with orrery.open_node([LOAD]) as node:
        engine = node.native.engine
        gc.collect()
        engine.collect()
        lua0, rss0 = engine.memory_used(), settled_rss_bytes()
        started = time.perf_counter()
        async with sample_peaks(engine.memory_used) as peak:
            report = await node.call("load:fanin", 100, 10_000)
        elapsed = time.perf_counter() - started
        engine.collect()
        lua1, rss1 = engine.memory_used(), settled_rss_bytes()
        base = await _trio_fanin(100, 10_000)
        print(f"fan-in 100 x 10,000: {report}")
        print(
            f"  Lua heap {_mib(lua0)} -> peak {_mib(peak.lua)} -> {_mib(lua1)}; "
            f"RSS {_mib(rss0)} -> peak {_mib(peak.rss)} -> {_mib(rss1)}"
        )
        print(f"  time / plain-trio time: {elapsed / base:.2f} ({elapsed:.2f} s vs {base:.2f} s)")

        warm = await node.call("load:churn", 20_000, 1_000)
        assert warm["exits"] == 20_000
        gc.collect()
        engine.collect()
        lua0, rss0 = engine.memory_used(), settled_rss_bytes()
        started = time.perf_counter()
        async with sample_peaks(engine.memory_used, every=0.05) as peak:
            result = await node.call("load:churn", churn, 1_000)
        elapsed = time.perf_counter() - started
        gc.collect()
        engine.collect()
        lua1, rss1 = engine.memory_used(), settled_rss_bytes()
        base = await _trio_churn(churn, 1_000)
        print(f"spawn/exit {churn:,} (1,000 alive at a time, after a 20,000 warm-up): {result}")
        print(
            f"  Lua heap {_mib(lua0)} -> peak {_mib(peak.lua)} -> {_mib(lua1)} "
            f"({(lua1 - lua0) / lua0:+.1%}); RSS {_mib(rss0)} -> peak {_mib(peak.rss)} -> "
            f"{_mib(rss1)} ({(rss1 - rss0) / rss0:+.1%}); live processes after: "
            f"{node.native.process_count()}"
        )
        print(f"  time / plain-trio time: {elapsed / base:.2f} ({elapsed:.2f} s vs {base:.2f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--churn", type=int, default=1_000_000, help="processes to spawn")
    trio.run(main, parser.parse_args().churn)
