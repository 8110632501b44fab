"""Cost of the step limits (docs/sandbox.md, "Limits"): budget checks and the CPU clock.

A pure Lua loop (a function entry) and ping-pong run in one process run with the step budget
checked every 100,000 instructions (the setting before issue #17) and every 25,000 (now, each
check also reading the CPU clock). Prints the medians and the ratio now / before.

    python bench/sandbox_cost.py [--reps 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import orrery
import trio
from orrery.hosts._native import NativeRuntime

APPS = Path(__file__).parent / "apps"
LOOP_N = 20_000_000
PINGS = 20_000
SETTINGS = {"before (100k x 2k)": (100_000, 2_000), "now (25k x 8k)": (25_000, 8_000)}


async def measure(hook_count: int, budget_ticks: int, reps: int) -> tuple[float, float]:
    defaults = NativeRuntime.__init__.__kwdefaults__
    saved = dict(defaults)
    defaults.update(hook_count=hook_count, budget_ticks=budget_ticks)
    try:
        async with orrery.open_node([APPS]) as node:
            loops, pings = [], []
            for _ in range(reps):
                t = time.perf_counter()
                await node.call("bench:probe", "loop", LOOP_N)
                loops.append((time.perf_counter() - t) / LOOP_N * 1e9)
                t = time.perf_counter()
                await node.exec("bench:pinger", "bench:processes", PINGS)
                pings.append(PINGS / (time.perf_counter() - t))
    finally:
        defaults.clear()
        defaults.update(saved)
    return statistics.median(loops), statistics.median(pings)


async def main(reps: int) -> None:
    rows = {}
    for _ in range(2):  # interleave the settings so load drifts hit both
        for name, (hook, ticks) in SETTINGS.items():
            loop_ns, rts = await measure(hook, ticks, reps)
            rows.setdefault(name, []).append((loop_ns, rts))
    base = None
    for name, runs in rows.items():
        loop_ns = statistics.median(r[0] for r in runs)
        rts = statistics.median(r[1] for r in runs)
        if base is None:
            base = (loop_ns, rts)
        print(
            f"{name:20} loop {loop_ns:6.2f} ns/iteration ({loop_ns / base[0]:.3f}x)   "
            f"ping-pong {rts / 1000:6.1f}k rt/s ({rts / base[1]:.3f}x)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    trio.run(main, parser.parse_args().reps)
