"""Round-trip latency of the asyncio bridge: trio -> asyncio -> trio for a no-op coroutine.

Run: python bench/bridge_latency.py [hops]   (default 2,000 hops after 200 warm-up hops)

``bench/temporal.py`` calls :func:`measure` on the bridge of a running node.
"""

from __future__ import annotations

import statistics
import sys
import time

import trio
from orrery.hosts.temporal._bridge import AsyncioThread


async def _noop() -> int:
    return 1


async def measure(bridge: AsyncioThread, hops: int, warmup: int = 200) -> list[int]:
    """Sorted round-trip times in nanoseconds of ``hops`` no-op hops over ``bridge``."""
    for _ in range(warmup):
        await bridge.run(_noop)
    samples: list[int] = []
    for _ in range(hops):
        t0 = time.perf_counter_ns()
        await bridge.run(_noop)
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return samples


def percentile(samples: list[int], p: float) -> float:
    """The ``p`` quantile (0..1) of sorted nanosecond samples, in microseconds."""
    return samples[min(len(samples) - 1, int(p * len(samples)))] / 1000


async def main(hops: int) -> None:
    async with AsyncioThread() as bridge:
        samples = await measure(bridge, hops)
    print(
        f"bridge hop (trio -> asyncio -> trio), {hops} hops: "
        f"p50 {percentile(samples, 0.50):.1f} us, p90 {percentile(samples, 0.90):.1f} us, "
        f"p99 {percentile(samples, 0.99):.1f} us, "
        f"mean {statistics.fmean(samples) / 1000:.1f} us, max {samples[-1] / 1000:.1f} us"
    )


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
