"""The node: the composer that loads a registry, starts hosts and services.

This is the only module of ``runtime/`` that imports upward (hosts and
supervision); everything else in ``runtime/`` stands on its own.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from ..hosts._native import ExitResult, Mailbox, NativeRuntime, result_from
from ..supervision import (
    GroupChild,
    GroupInfo,
    GroupRun,
    GroupSpec,
    ProcessTarget,
    RestartPolicy,
    RunOutcome,
    ServiceInfo,
    ServiceSpec,
    ServiceSupervisor,
)
from ._codec import ErrorValue
from ._engine import LuaEngine, lua_file
from ._errors import OrreryError, Problem, error_for
from ._observer_server import serve_control
from ._pid import Pid
from ._registry import (
    Entry,
    HostEntry,
    LuaEntry,
    Registry,
    ServiceEntry,
    SupervisorEntry,
    TemporalClientEntry,
    TemporalWorkerEntry,
    load_registry,
)
from ._state_dir import prepare_state_dir
from ._tracing import Tracer, otel_installed

_log = logging.getLogger("orrery.node")

#: Extra time a stop may take beyond its deadline to tear down one process.
_TEARDOWN_GRACE = 1.0


def lua_checker() -> Callable[[LuaEntry], list[Problem]]:
    """A function checking Lua entries for the registry loader.

    See docs/reference/yaml-kinds.md, "Lua entries: process.lua, workflow.lua, function.lua".
    """
    engine: LuaEngine | None = None

    def refuse(*_: Any) -> Any:
        raise error_for("Invalid", "operation not allowed while loading")

    def check(entry: LuaEntry) -> list[Problem]:
        nonlocal engine
        if engine is None:
            bridge: dict[str, Callable[..., Any]] = dict.fromkeys(
                (
                    "timer",
                    "random",
                    "log",
                    "exit_notify",
                    "mailbox_put",
                    "mailbox_closed",
                    "remote",
                    "drop_watches",
                ),
                refuse,
            )
            bridge["now"] = lambda: 0
            bridge["monotonic"] = lambda: 0.0
            engine = LuaEngine(lua_file("orrery.hosts", "native.lua"), bridge, {"node": "check"})
        return engine.check(entry)

    return check


def load(roots: Sequence[str | os.PathLike[str]], overrides: Sequence[str] = ()) -> Registry:
    """Loads and validates a registry, compiling and checking every Lua entry."""
    return load_registry(roots, overrides, lua_checker())


class _HostRun:
    """One run of a process.host service."""

    def __init__(self, native: NativeRuntime, entry: HostEntry) -> None:
        self._native = native
        self._entry = entry
        self._stopped = trio.Event()

    @property
    def pid(self) -> str | None:
        return None

    async def start(self) -> None:
        self._native.set_host_running(self._entry.id, True)

    async def wait(self) -> RunOutcome:
        await self._stopped.wait()
        return RunOutcome(restartable=False, error=None)

    async def stop(self, timeout: float) -> None:
        await self._native.stop_host(self._entry.id, timeout)
        self._stopped.set()


def _outcome(result: ExitResult) -> RunOutcome:
    """How a process exit counts for supervision.

    See docs/reference/services.md, "Failure classification".
    """
    if result.error is None:
        return RunOutcome(restartable=False, error=None)
    error = f"{result.error.kind}: {result.error.message}"
    return RunOutcome(restartable=result.error.retryable is not False, error=error)


class _ProcessServiceRun:
    """One run of a process.service: a process on its native host."""

    def __init__(self, native: NativeRuntime, entry: ServiceEntry) -> None:
        self._native = native
        self._entry = entry
        self._pid: str | None = None
        self._done = trio.Event()
        self._result: ExitResult | None = None

    @property
    def pid(self) -> str | None:
        return self._pid if not self._done.is_set() else None

    def _on_exit(self, pid: str, data: bytes) -> None:
        self._result = result_from(pid, data)
        self._done.set()

    async def start(self) -> None:
        self._pid = self._native.spawn(
            self._entry.process, self._entry.host, list(self._entry.input), on_exit=self._on_exit
        )

    async def wait(self) -> RunOutcome:
        await self._done.wait()
        assert self._result is not None
        return _outcome(self._result)

    async def stop(self, timeout: float) -> None:
        if self._pid is None or self._done.is_set():
            return
        try:
            self._native.cancel(self._pid, "service stopping", deadline=timeout)
        except OrreryError:
            return  # already gone
        with trio.move_on_after(timeout + _TEARDOWN_GRACE):
            await self._done.wait()
        if not self._done.is_set():
            self._native.terminate(self._pid)


class _NativeStarter:
    """Starts, cancels and terminates the process children of supervision groups."""

    def __init__(self, native: NativeRuntime) -> None:
        self._native = native

    def spawn(self, target: ProcessTarget, on_exit: Callable[[RunOutcome], None]) -> str:
        def exited(pid: str, data: bytes) -> None:
            on_exit(_outcome(result_from(pid, data)))

        return self._native.spawn(target.entry, target.host, target.args, on_exit=exited)

    def cancel(self, pid: str, reason: str, deadline: float) -> None:
        self._native.cancel(pid, reason, deadline=deadline)

    def terminate(self, pid: str) -> None:
        self._native.terminate(pid)


class _UnavailableRun:
    """A service kind this build cannot run yet."""

    def __init__(self, entry: Entry) -> None:
        self._entry = entry

    @property
    def pid(self) -> str | None:
        return None

    async def start(self) -> None:
        raise error_for(
            "Unavailable",
            f"{self._entry.kind} {self._entry.id} is not supported by this orrery build",
        )

    async def wait(self) -> RunOutcome:  # pragma: no cover - never started
        await trio.sleep_forever()
        raise AssertionError

    async def stop(self, timeout: float) -> None:
        return None


class Node:
    """A running orrery node: its registry, hosts, services and the embedding API.

    Obtain one with :func:`open_node`. Every method runs under trio.
    """

    #: The node's state directory (set by :func:`open_node`).
    state_dir: Path

    def __init__(self, registry: Registry, native: NativeRuntime, temporal: Any = None) -> None:
        self.registry = registry
        self.native = native
        self.temporal = temporal
        self._starter = _NativeStarter(native)
        self._groups: dict[str, GroupRun] = {}  # the latest run of each root supervisor
        self.tracer: Tracer | None = None
        self.supervisor = ServiceSupervisor(
            self._service_specs(), logger=logging.getLogger("orrery.supervision")
        )

    def _trace_with(self, tracer: Tracer | None) -> None:
        """Reports spawns, exits, sends and restarts to ``tracer`` (docs/observer.md)."""
        self.tracer = tracer
        self.native.set_tracer(tracer)
        self.supervisor.on_restart = tracer.restart if tracer is not None else None

    def _service_specs(self) -> list[ServiceSpec]:
        specs = []
        for entry in self.registry.services():
            lifecycle = entry.lifecycle
            restart = lifecycle.restart
            specs.append(
                ServiceSpec(
                    id=entry.id,
                    kind=entry.kind,
                    auto_start=lifecycle.auto_start,
                    requires=tuple(self.registry.dependencies(entry.id)),
                    start_timeout=lifecycle.start_timeout,
                    stop_timeout=lifecycle.stop_timeout,
                    stable_threshold=lifecycle.stable_threshold,
                    restart=RestartPolicy(
                        initial_delay=restart.initial_delay,
                        max_delay=restart.max_delay,
                        backoff_factor=restart.backoff_factor,
                        jitter=restart.jitter,
                        max_attempts=restart.max_attempts,
                    ),
                    factory=self._factory(entry),
                )
            )
        return specs

    def _factory(self, entry: Entry) -> Any:
        native = self.native
        if isinstance(entry, HostEntry):
            return lambda: _HostRun(native, entry)
        if isinstance(entry, ServiceEntry):
            return lambda: _ProcessServiceRun(native, entry)
        if isinstance(entry, SupervisorEntry):
            return lambda: self._group_run(entry)
        if self.temporal is not None and isinstance(entry, TemporalClientEntry):
            return lambda: self.temporal.client_run(entry)
        if self.temporal is not None and isinstance(entry, TemporalWorkerEntry):
            return lambda: self.temporal.worker_run(entry)
        return lambda: _UnavailableRun(entry)

    def _group_spec(self, entry: SupervisorEntry) -> GroupSpec:
        children = []
        for child in entry.children:
            nested = self.registry.get(child.supervisor) if child.supervisor else None
            if isinstance(nested, SupervisorEntry):
                shutdown = child.shutdown
                if shutdown is None:  # a nested supervisor defaults to its own stop_timeout
                    shutdown = nested.lifecycle.stop_timeout
                runs: dict[str, Any] = {"supervisor": self._group_spec(nested)}
            else:
                assert child.process and child.host and child.shutdown is not None
                shutdown = child.shutdown
                runs = {"process": ProcessTarget(child.process, child.host, child.input)}
            children.append(
                GroupChild(id=child.id, restart=child.restart, shutdown=shutdown, **runs)
            )
        return GroupSpec(
            id=entry.id,
            children=children,
            strategy=entry.strategy,
            intensity=entry.intensity,
            period=entry.period,
        )

    def _group_run(self, entry: SupervisorEntry) -> GroupRun:
        on_restart = self.tracer.restart if self.tracer is not None else None
        run = self._groups[entry.id] = GroupRun(
            self._group_spec(entry), self._starter, on_restart=on_restart
        )
        return run

    def _is_worker(self, host: str) -> bool:
        entry = self.registry.get(host)
        return entry is not None and entry.kind == "temporal.worker"

    def _pid_on_worker(self, pid: str) -> bool:
        parsed = Pid.try_parse(pid)
        return parsed is not None and parsed.node is not None and self._is_worker(parsed.host)

    async def _remote(self, op: str, args: Any) -> Any:
        if self.temporal is None:
            raise error_for("Unavailable", "this node has no temporal.worker")
        return await self.temporal.router.remote(op, args)

    def _remote_spec(
        self, entry: str, host: str, args: Sequence[Any], **options: Any
    ) -> dict[str, Any]:
        messages = [
            {"topic": topic, "values": list(values), "n": len(values)}
            for topic, values in options.get("messages", ())
        ]
        return {
            "entry": entry,
            "host": host,
            "args": list(args),
            "n": len(args),
            "name": options.get("name"),
            "messages": messages,
            "ctx": options.get("context"),
            "options": options.get("options"),
        }

    # -- the embedding API (docs/reference/cli.md) -----------------------------------------------

    async def call(self, function: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """Calls a ``function.lua`` entry and returns its result; raises its error."""
        self.registry.require(function, "function.lua")
        result = await self.native.call(function, args, context)
        return result.unwrap()

    async def spawn(
        self,
        entry: str,
        host: str,
        *args: Any,
        name: str | None = None,
        messages: Sequence[tuple[str, Sequence[Any]]] = (),
        context: dict[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> str:
        """Spawns ``entry`` on ``host`` with ``args``; returns the PID.

        On a ``temporal.worker`` host this starts a workflow. ``options`` are those of
        ``process.with_options`` in Lua: workflow start options
        (``"temporal.workflow.execution_timeout": "1h"``, ...; ignored on a native
        host) and ``mailbox`` (bounds on a native host, docs/mailboxes.md).

        Raises:
            InvalidError: an option key that is neither ``mailbox`` nor a workflow option.
        """
        _check_spawn_options(options)
        if self._is_worker(host):
            spec = self._remote_spec(
                entry, host, args, name=name, messages=messages, context=context, options=options
            )
            return str(await self._remote("spawn", spec))
        await trio.lowlevel.checkpoint()
        return self.native.spawn(
            entry, host, args, name=name, messages=messages, context=context, options=options
        )

    async def exec(self, entry: str, host: str, *args: Any, **options: Any) -> Any:
        """Spawns ``entry`` and waits for its result (raises its error)."""
        result = await self.run_process(entry, host, *args, **options)
        return result.unwrap()

    async def run_process(self, entry: str, host: str, *args: Any, **options: Any) -> ExitResult:
        """Spawns ``entry`` and returns how it ended, failure included."""
        _check_spawn_options(options.get("options"))
        if self._is_worker(host):
            spec = self._remote_spec(entry, host, args, **options)
            try:
                value = await self._remote("exec", spec)
            except OrreryError as exc:
                return ExitResult(
                    pid="",
                    error=ErrorValue(exc.kind, exc.message, exc.retryable, exc.details or None),
                )
            return ExitResult(pid="", value=value)
        done = trio.Event()
        box: list[ExitResult] = []

        def on_exit(pid: str, data: bytes) -> None:
            box.append(result_from(pid, data))
            done.set()

        pid = self.native.spawn(entry, host, args, on_exit=on_exit, **options)
        try:
            await done.wait()
        finally:
            if not box:
                self.native.terminate(pid)
        return box[0]

    async def send(self, dest: str, topic: str, *values: Any, sender: str | None = None) -> None:
        """Sends a message to a PID or registered name."""
        if self._pid_on_worker(dest):
            await self._remote(
                "send",
                {
                    "dest": dest,
                    "topic": topic,
                    "values": list(values),
                    "n": len(values),
                    "from": sender,
                },
            )
            return
        await trio.lowlevel.checkpoint()
        self.native.send(dest, topic, values, sender=sender)

    async def terminate(self, dest: str) -> None:
        """Stops a process at once (a workflow is terminated)."""
        if self._pid_on_worker(dest):
            await self._remote("terminate", {"target": dest})
            return
        await trio.lowlevel.checkpoint()
        self.native.terminate(dest)

    async def cancel(self, dest: str, reason: str = "", deadline: float | None = None) -> None:
        """Asks a process to stop (CANCEL event), terminating it after ``deadline`` seconds."""
        if self._pid_on_worker(dest):
            ns = None if deadline is None else round(deadline * 1e9)
            await self._remote("cancel", {"target": dest, "reason": reason, "deadline_ns": ns})
            return
        await trio.lowlevel.checkpoint()
        self.native.cancel(dest, reason, deadline)

    async def wait_exit(self, pid: str) -> ExitResult:
        """Waits for a process to end."""
        return await self.native.wait_exit(pid)

    def lookup(self, name: str) -> str | None:
        """The PID registered under ``name``, or None."""
        return self.native.lookup(name)

    @asynccontextmanager
    async def mailbox(self) -> AsyncIterator[Mailbox]:
        """A Python-side PID with a mailbox, closed when the block ends."""
        box = self.native.open_mailbox()
        try:
            yield box
        finally:
            box.close()

    # -- services ---------------------------------------------------------------------

    def services(self) -> list[ServiceInfo]:
        """Every service with its state, failure count and current PID."""
        return self.supervisor.services()

    async def start_service(self, service_id: str) -> None:
        """Starts a service (and what it requires)."""
        await self.supervisor.start_service(service_id)

    async def stop_service(self, service_id: str) -> None:
        """Stops a service gracefully."""
        await self.supervisor.stop_service(service_id)

    def supervisor_tree(self, supervisor_id: str) -> GroupInfo:
        """A snapshot of a ``process.supervisor`` and its children, nested ones included.

        Each child has its id, kind, state, PID, restarts and last error (docs/supervision.md).
        For a root supervisor ``state`` is its service state; for a nested one, the state of
        its current run. Before its first start every child is ``registered``.

        Raises:
            NotFound: no such entry.
            InvalidError: the entry is not a ``process.supervisor``.
        """
        entry = self.registry.require(supervisor_id, "process.supervisor")
        path = []
        while (parent := self.registry.supervisor_parent(entry.id)) is not None:
            path.append(parent[1])
            entry = self.registry.require(parent[0])
        assert isinstance(entry, SupervisorEntry)
        run = self._groups.get(entry.id)
        if run is None:  # never started: a run that is not started shows every child registered
            run = GroupRun(self._group_spec(entry), self._starter)
        info = run.info()
        info = attrs.evolve(info, state=self.supervisor.service(entry.id).state)
        for child_id in reversed(path):
            nested = next(c for c in info.children if c.id == child_id).supervisor
            assert nested is not None
            info = nested
        return info


def _check_spawn_options(options: Mapping[str, Any] | None) -> None:
    """Refuses spawn option keys ``process.with_options`` would refuse."""
    for key in options or {}:
        if key != "mailbox" and not (
            isinstance(key, str) and key.startswith(("workflow.", "temporal.workflow."))
        ):
            raise error_for(
                "Invalid",
                f'unknown spawn option "{key}" (accepted: mailbox, workflow.* and '
                "temporal.workflow.* keys)",
            )


def uses_state_dir(registry: Registry) -> bool:
    """Whether a node of ``registry`` keeps files in its state dir without ``control``."""
    return bool(registry.of_kind("temporal.client", "temporal.worker"))


@asynccontextmanager
async def open_node(
    roots: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    overrides: Sequence[str] = (),
    *,
    state_dir: str | os.PathLike[str] | None = None,
    max_memory: int | None = None,
    registry: Registry | None = None,
    control: bool = False,
    tracing: bool = False,
    tracer_provider: Any = None,
) -> AsyncIterator[Node]:
    """Boots a node from app directories and stops it when the block ends.

    Loads and validates every entry (raising :class:`orrery.errors.RegistryError`
    with all problems), starts auto-start services in dependency order and
    returns when boot completed. Leaving the block stops every service in
    reverse order, bounded by the node's ``shutdown_timeout``.

    ``max_memory`` is the byte limit of the node's native Lua state; ``None``
    takes ``lua_memory_limit`` from ``orrery.yaml`` (default 512 MiB), ``0``
    means no limit (docs/sandbox.md).

    With ``control=True`` the node answers ``orrery ps / tree / inspect`` on a Unix
    domain socket in its state dir (docs/observer.md) from before boot until it stops.

    ``tracing=True`` turns on OpenTelemetry spans for spawn, exit, send and restarts
    (``orrery run --trace``). It is off by default, installed or not: a traced send
    calls from Lua into Python, which about halves message throughput. Spans go to
    ``tracer_provider``, or to the global provider when it is ``None``.

    The state dir (``state_dir``, default ``.orrery`` in the first root) is created
    with mode 0700 when the node needs it: with ``control=True`` or a Temporal entry.

    Raises:
        RegistryError: the registry has problems (all of them are listed).
        UsageError: the state dir is not a directory, or cannot be created.
        Unavailable: ``tracing=True`` but ``opentelemetry-api`` is not installed.
    """
    if isinstance(roots, (str, os.PathLike)):
        roots = [roots]
    if registry is None:
        registry = load(roots, overrides)
    config = registry.config
    if max_memory is None:
        max_memory = config.lua_memory_limit
    native = NativeRuntime(config.node_name, max_memory=max_memory)
    for entry in registry.of_kind("process.host"):
        assert isinstance(entry, HostEntry)
        native.define_host(entry.id, entry.max_processes)
    for entry in registry.of_kind("process.lua", "workflow.lua", "function.lua"):
        assert isinstance(entry, LuaEntry)
        native.engine.define(entry)
    state = Path(state_dir) if state_dir else (Path(roots[0]) / ".orrery")
    temporal = None
    if control or uses_state_dir(registry):
        prepare_state_dir(state)
    if registry.of_kind("temporal.client", "temporal.worker"):
        from ..hosts.temporal._services import TemporalHost  # noqa: PLC0415 - only when used

        temporal = TemporalHost(registry, native, state)
    node = Node(registry, native, temporal)
    node.state_dir = state
    if tracing:
        if not otel_installed():
            raise error_for(
                "Unavailable",
                "tracing needs OpenTelemetry: pip install 'orrery[otel]' (or opentelemetry-api)",
            )
        node._trace_with(Tracer(config.node_name, tracer_provider))
        _log.info("tracing spawn, exit, send and restarts with OpenTelemetry")
    # The node's own tasks (the native runtime, the Temporal bridge, every
    # service) run in a shielded system nursery: cancelling the caller, even in
    # the middle of boot, interrupts only its wait, and the shutdown below still
    # stops every service in reverse order before the system nursery ends.
    system_scope = trio.CancelScope(shield=True)

    async def run_system(*, task_status: trio.TaskStatus[trio.Nursery]) -> None:
        with system_scope:
            async with trio.open_nursery() as system:
                await system.start(native.run)
                if control:
                    await system.start(serve_control, node, state)
                if temporal is not None:
                    await temporal.start()
                task_status.started(system)
                await trio.sleep_forever()

    async with trio.open_nursery() as outer:
        system = await outer.start(run_system)
        try:
            await node.supervisor.boot(system)
            yield node
        finally:
            with trio.CancelScope(shield=True):
                timeout = config.shutdown_timeout
                with trio.move_on_after(timeout if math.isfinite(timeout) else 30.0):
                    await node.supervisor.shutdown(timeout)
                if temporal is not None:
                    with trio.move_on_after(10):
                        await temporal.stop()
                if node.tracer is not None:
                    node.tracer.close()
            system_scope.cancel()
