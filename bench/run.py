"""orrery benchmarks, each next to a plain-trio baseline measured in the same run.

Usage::

    python bench/run.py            # full sizes (about a minute on 2 cores)
    python bench/run.py --quick    # small sizes, a smoke test for CI
    python bench/run.py --json     # one JSON document instead of the table
    python bench/run.py --probes   # also time Lua-only reference loops

Every orrery figure goes through the public API: ``orrery.open_node`` on
``bench/apps`` and ``node.exec("bench:<entry>", "bench:processes", ...)``,
timed with ``time.perf_counter`` around the call. The baselines are the same
workloads written as plain trio tasks and memory channels. Rates are medians of
``--reps`` repetitions, orrery and trio alternating. The memory benchmark runs
each side in a fresh subprocess so that RSS growth is not polluted by the other.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orrery
import trio
import trio.testing

APPS = Path(__file__).resolve().parent / "apps"
HOST = "bench:processes"
FANIN_SENDERS = 8
STOP_TIMEOUT_OVERRIDE = "bench:processes:lifecycle.stop_timeout=100ms"

#: Workload sizes: full runs and --quick smoke runs.
SIZES = {
    "full": {"pingpong": 100_000, "fanin": 50_000, "spawn": 100_000, "memory": 100_000},
    "quick": {"pingpong": 5_000, "fanin": 1_000, "spawn": 5_000, "memory": 5_000},
}


@dataclass
class Result:
    """One row of the table."""

    bench: str
    unit: str
    n: int
    orrery: float
    trio: float | None
    target: float | None
    better: str  # "higher" or "lower"
    orrery_reps: list[float] = field(default_factory=list)
    trio_reps: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.trio:
            return None
        return self.orrery / self.trio

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        if self.better == "higher":
            return self.orrery >= self.target
        return self.orrery <= self.target

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["pass"] = self.passed
        return data


# -- plain-trio baselines ----------------------------------------------------------------


async def trio_pingpong(n: int) -> int:
    """Two tasks, n round trips over a pair of unbuffered memory channels."""
    ping_tx, ping_rx = trio.open_memory_channel[int](0)
    pong_tx, pong_rx = trio.open_memory_channel[int](0)

    async def ponger() -> None:
        async with pong_tx:
            async for value in ping_rx:
                await pong_tx.send(value)

    last = -1
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ponger)
        async with ping_tx:
            for i in range(1, n + 1):
                await ping_tx.send(i)
                last = await pong_rx.receive()
    assert last == n
    return n


async def trio_fanin(senders: int, per_sender: int) -> int:
    """``senders`` tasks sending ``per_sender`` values each into one unbounded channel.

    Unbounded, like an orrery mailbox (and faster than a size-0 channel here).
    """
    tx, rx = trio.open_memory_channel[int](math.inf)

    async def sender(tx: trio.MemorySendChannel[int]) -> None:
        async with tx:
            for i in range(1, per_sender + 1):
                await tx.send(i)

    total = 0
    received = 0
    async with trio.open_nursery() as nursery:
        async with tx:
            for _ in range(senders):
                nursery.start_soon(sender, tx.clone())
        async for value in rx:
            total += value
            received += 1
    assert total == senders * per_sender * (per_sender + 1) // 2
    return received


async def _trivial() -> None:
    pass


async def trio_spawn(n: int) -> int:
    """n trivial tasks started in a nursery; returns when all of them exited."""
    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(_trivial)
    return n


# -- timing ------------------------------------------------------------------------------


async def timed(fn: Callable[[], Awaitable[Any]], expect: int) -> float:
    """Seconds one call of ``fn`` took; checks that it handled ``expect`` items."""
    start = time.perf_counter()
    got = await fn()
    elapsed = time.perf_counter() - start
    if got != expect:
        raise RuntimeError(f"benchmark handled {got!r} items, expected {expect}")
    return elapsed


async def rate_bench(
    name: str,
    unit: str,
    count: int,
    target: float,
    orrery_fn: Callable[[], Awaitable[Any]],
    trio_fn: Callable[[], Awaitable[Any]],
    reps: int,
) -> Result:
    """Median rate (count / seconds) of ``reps`` alternating runs of each side."""
    orrery_rates: list[float] = []
    trio_rates: list[float] = []
    for _ in range(reps):
        orrery_rates.append(count / await timed(orrery_fn, count))
        trio_rates.append(count / await timed(trio_fn, count))
    return Result(
        bench=name,
        unit=unit,
        n=count,
        orrery=statistics.median(orrery_rates),
        trio=statistics.median(trio_rates),
        target=target,
        better="higher",
        orrery_reps=orrery_rates,
        trio_reps=trio_rates,
    )


async def run_rates(sizes: dict[str, int], reps: int, probes: bool) -> list[Result]:
    n_pp, per_sender, n_spawn = sizes["pingpong"], sizes["fanin"], sizes["spawn"]
    results: list[Result] = []
    async with orrery.open_node([APPS]) as node:

        def exec_(entry: str, *args: Any) -> Callable[[], Awaitable[Any]]:
            return lambda: node.exec(entry, HOST, *args)

        # warm-up: first runs of each side pay for imports and allocator growth
        for entry, args in (
            ("bench:pinger", (1000,)),
            ("bench:fanin", (FANIN_SENDERS, 100)),
            ("bench:spawner", (1000,)),
        ):
            await node.exec(entry, HOST, *args)
        await trio_pingpong(1000)
        await trio_fanin(FANIN_SENDERS, 100)
        await trio_spawn(1000)

        results.append(
            await rate_bench(
                "ping-pong",
                "round trips/s",
                n_pp,
                150_000,
                exec_("bench:pinger", n_pp),
                lambda: trio_pingpong(n_pp),
                reps,
            )
        )
        total = FANIN_SENDERS * per_sender
        results.append(
            await rate_bench(
                f"fan-in {FANIN_SENDERS}->1",
                "messages/s",
                total,
                300_000,
                exec_("bench:fanin", FANIN_SENDERS, per_sender),
                lambda: trio_fanin(FANIN_SENDERS, per_sender),
                reps,
            )
        )
        results.append(
            await rate_bench(
                "spawn + exit",
                "processes/s",
                n_spawn,
                50_000,
                exec_("bench:spawner", n_spawn),
                lambda: trio_spawn(n_spawn),
                reps,
            )
        )
        if probes:
            results.extend(await run_probes(node, max(n_pp, 10_000)))
    return results


async def run_probes(node: orrery.Node, n: int) -> list[Result]:
    """Lua-only loops inside one function frame, in microseconds per operation."""
    out = []
    for probe, what in (
        ("loop", "probe: empty Lua loop"),
        ("channel", "probe: channel round trip, 2 coroutines"),
        ("send_only", "probe: send to self + receive"),
        ("self_send", "probe: send to self + receive + data()"),
    ):
        samples = [await node.call("bench:probe", probe, n) * 1e6 / n for _ in range(3)]
        out.append(
            Result(
                bench=what,
                unit="us/op",
                n=n,
                orrery=statistics.median(samples),
                trio=None,
                target=None,
                better="lower",
                orrery_reps=samples,
            )
        )
    return out


# -- memory ------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: peak RSS is the best we have
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


async def memory_orrery(n: int) -> dict[str, Any]:
    """RSS and Lua heap growth for n native processes blocked in inbox:receive()."""
    # Idle processes never look at their events, so the host's graceful stop
    # waits its whole stop_timeout (10 s by default) before terminating them;
    # a short one keeps the teardown measurable.
    async with orrery.open_node([APPS], [STOP_TIMEOUT_OVERRIDE]) as node:
        engine = node.native.engine

        def settle() -> tuple[int, int]:
            gc.collect()
            engine.collect()
            return rss_bytes(), engine.memory_used()

        # warm-up idlers stay alive and are part of the baseline
        await node.exec("bench:idler", HOST, 100)
        rss0, lua0 = settle()
        start = time.perf_counter()
        got = await node.exec("bench:idler", HOST, n)
        setup = time.perf_counter() - start
        assert got == n
        rss1, lua1 = settle()
        stop = time.perf_counter()
    teardown = time.perf_counter() - stop
    return {
        "rss_per_process": (rss1 - rss0) / n,
        "lua_heap_per_process": (lua1 - lua0) / n,
        "setup_s": setup,
        "teardown_s": teardown,
    }


async def memory_trio(n: int) -> dict[str, Any]:
    """RSS growth for n trio tasks blocked in receive() on their own channel."""

    async def idle(rx: trio.MemoryReceiveChannel[None]) -> None:
        async with rx:
            with contextlib.suppress(trio.EndOfChannel):
                await rx.receive()

    def settle() -> int:
        gc.collect()
        return rss_bytes()

    async with trio.open_nursery() as nursery:
        senders: list[trio.MemorySendChannel[None]] = []

        def start(count: int) -> None:
            for _ in range(count):
                tx, rx = trio.open_memory_channel[None](0)
                senders.append(tx)
                nursery.start_soon(idle, rx)

        start(100)
        await trio.testing.wait_all_tasks_blocked()
        rss0 = settle()
        begin = time.perf_counter()
        start(n)
        await trio.testing.wait_all_tasks_blocked()
        setup = time.perf_counter() - begin
        rss1 = settle()
        stop = time.perf_counter()
        for tx in senders:
            tx.close()
    teardown = time.perf_counter() - stop
    return {
        "rss_per_process": (rss1 - rss0) / n,
        "lua_heap_per_process": None,
        "setup_s": setup,
        "teardown_s": teardown,
    }


def memory_in_subprocess(side: str, n: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--memory-worker", side, "--count", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory worker ({side}) failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_memory(n: int) -> list[Result]:
    orr = memory_in_subprocess("orrery", n)
    base = memory_in_subprocess("trio", n)
    details = {"orrery": orr, "trio": base}
    return [
        Result(
            bench="memory per idle process (RSS)",
            unit="bytes",
            n=n,
            orrery=orr["rss_per_process"],
            trio=base["rss_per_process"],
            target=4096,
            better="lower",
            extra=details,
        ),
        Result(
            bench="memory per idle process (Lua heap)",
            unit="bytes",
            n=n,
            orrery=orr["lua_heap_per_process"],
            trio=None,
            target=None,
            better="lower",
        ),
    ]


# -- output ------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "us/op":
        return f"{value:.3f}"
    return f"{value:,.0f}"


def print_table(results: list[Result], quick: bool) -> None:
    header = ("bench", "unit", "orrery", "trio", "ratio", "target", "")
    rows = [header]
    for r in results:
        op = ">=" if r.better == "higher" else "<="
        rows.append(
            (
                r.bench,
                r.unit,
                fmt(r.orrery, r.unit),
                fmt(r.trio, r.unit),
                "-" if r.ratio is None else f"{r.ratio:.2f}x",
                "-" if r.target is None else f"{op} {r.target:,.0f}",
                "" if r.passed is None else ("PASS" if r.passed else "MISS"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        cells = [
            cell.ljust(widths[j]) if j < 2 else cell.rjust(widths[j]) for j, cell in enumerate(row)
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    mem = next((r for r in results if r.extra), None)
    if mem:
        o, t = mem.extra["orrery"], mem.extra["trio"]
        print(
            f"\nmemory: {mem.n:,} processes; setup {o['setup_s']:.2f} s"
            f" (trio {t['setup_s']:.2f} s); teardown {o['teardown_s']:.2f} s"
            f" (trio {t['teardown_s']:.2f} s)"
        )
    print("ratio = orrery / trio (rates: higher is better; memory: lower is better)")
    if quick:
        print("--quick: small sizes, a smoke test; the figures are not the benchmark")


def machine() -> dict[str, Any]:
    import lupa

    return {
        "python": platform.python_version(),
        "trio": trio.__version__,
        "lupa": lupa.__version__,
        "orrery": orrery.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per rate (median)")
    parser.add_argument("--probes", action="store_true", help="also time Lua-only loops")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory benchmark")
    parser.add_argument("--memory-worker", choices=("orrery", "trio"), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_worker:
        worker = memory_orrery if args.memory_worker == "orrery" else memory_trio
        print(json.dumps(trio.run(worker, args.count)))
        return 0

    sizes = SIZES["quick" if args.quick else "full"]
    results = trio.run(run_rates, sizes, args.reps, args.probes)
    if not args.no_memory:
        results.extend(run_memory(sizes["memory"]))
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "quick": args.quick,
                    "reps": args.reps,
                    "results": [r.as_json() for r in results],
                },
                indent=2,
            )
        )
    else:
        print_table(results, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
