"""The ``temporal.client`` and ``temporal.worker`` services of a node.

:class:`TemporalHost` is created by the node when its registry has Temporal
entries. It owns the asyncio thread the SDK runs on and the router of
native-side operations on workflow PIDs, and makes one :class:`ServiceRun` per
client or worker start (docs/reference/services.md, "What start and failure mean").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import temporalio.client
import temporalio.worker
import trio

from ...runtime._errors import error_for
from ...supervision import RunOutcome
from ._activities import make_activities
from ._bridge import AsyncioThread
from ._connect import connect_options
from ._converter import DATA_CONVERTER
from ._devserver import DevServer
from ._observe import describe_workflow, list_workflows
from ._router import ClientInterceptor, TemporalRouter
from ._workflow import (
    LuaWorkflow,
    WorkerContext,
    WorkerInterceptor,
    worker_context,
    workflow_types,
)

if TYPE_CHECKING:
    from ...runtime._registry import Registry, TemporalClientEntry, TemporalWorkerEntry
    from .._native import NativeRuntime

_log = logging.getLogger("orrery.temporal")


class TemporalHost:
    """Everything Temporal in one node: the asyncio thread, clients, workers, router."""

    def __init__(self, registry: Registry, native: NativeRuntime, state_dir: Path) -> None:
        self.registry = registry
        self.native = native
        self.state_dir = state_dir
        self.bridge = AsyncioThread()
        self.router = TemporalRouter(self.bridge, native)
        #: client ID -> the port its embedded dev server last had (reused on restart)
        self.dev_ports: dict[str, int] = {}
        #: temporal.client entry ID -> Web UI address of its embedded dev server (UI on).
        self.ui_addresses: dict[str, str] = {}
        native.router = self.router
        workers = registry.workers()
        self.client_of = {w.id: w.client for w in workers}
        _, type_names = workflow_types(registry)
        for w in workers:
            native._lua(native.H.set_remote_host, w.id)
            self.router.workers[w.id] = (w.client, w.task_queue)
            # every worker runs every Lua entry, under the same type names
            self.router.type_names[w.id] = type_names

    async def start(self) -> None:
        """Starts the asyncio thread (before any Temporal service starts)."""
        await self.bridge.start()

    async def stop(self) -> None:
        """Stops the asyncio thread (after every Temporal service stopped)."""
        await self.bridge.stop()

    async def workflows(self) -> list[dict[str, Any]]:
        """The running workflows of this node's workers (for ``orrery ps``)."""
        return await self.bridge.run(list_workflows, self)

    async def workflow(self, pid: str) -> dict[str, Any]:
        """One workflow by PID with its Temporal status (for ``orrery inspect``)."""
        return await self.bridge.run(describe_workflow, self, pid)

    def client_run(self, entry: TemporalClientEntry) -> ClientRun:
        """A run of a temporal.client service."""
        return ClientRun(self, entry)

    def worker_run(self, entry: TemporalWorkerEntry) -> WorkerRun:
        """A run of a temporal.worker service."""
        return WorkerRun(self, entry)


class ClientRun:
    """Connects to a Temporal server, starting the embedded dev server when configured."""

    def __init__(self, host: TemporalHost, entry: TemporalClientEntry) -> None:
        self.host = host
        self.entry = entry
        self.server: DevServer | None = None
        self._stopped = trio.Event()

    @property
    def pid(self) -> str | None:
        return None

    async def start(self) -> None:
        await self.host.bridge.run(self._connect)

    async def _connect(self) -> None:
        entry = self.entry
        address = entry.address
        dev = entry.dev_server
        if dev is not None and dev.enabled:
            db = dev.database_file
            if db == "":
                db = str(self.host.state_dir / "temporal.db")
            elif db == ":memory:":
                db = ""
            self.server = DevServer(
                ip=dev.ip,
                port=dev.port,
                namespace=entry.temporal_namespace,
                database_file=db,
                ui=dev.ui,
                ui_port=dev.ui_port,
                log_level=dev.log_level,
                extra_args=list(dev.extra_args),
                search_attributes=dict(dev.search_attributes),
                existing_path=dev.existing_path,
                preferred_port=self.host.dev_ports.get(entry.id, 0),
            )
            await self.server.start()
            self.host.dev_ports[entry.id] = self.server.bound_port
            address = self.server.address
            ui = self.server.ui_address
            if ui:
                self.host.ui_addresses[entry.id] = ui
            _log.info(
                "temporal dev server for %s at %s%s",
                entry.id,
                address,
                f" (Web UI {ui})" if ui else "",
            )
        assert address is not None
        client = await asyncio.wait_for(
            temporalio.client.Client.connect(
                address,
                namespace=entry.temporal_namespace,
                data_converter=DATA_CONVERTER,
                interceptors=[ClientInterceptor()],
                **connect_options(entry),
            ),
            timeout=entry.connection_timeout,
        )
        self.host.router.clients[entry.id] = client
        self.host.router.namespaces[entry.id] = entry.temporal_namespace
        _log.info(
            "temporal client %s connected to %s (namespace %s)",
            entry.id,
            address,
            entry.temporal_namespace,
        )

    async def wait(self) -> RunOutcome:
        """Runs until stopped, or until the embedded dev server dies on its own.

        A dead dev server fails the service, so its restart policy starts a new
        server on the same database file and, when it is free, the same port:
        workers and clients still connected to that address reconnect by themselves.
        """
        server = self.server
        exit_code: int | None = None
        async with trio.open_nursery() as nursery:

            async def server_exit() -> None:
                nonlocal exit_code
                assert server is not None
                exit_code = await self.host.bridge.run(server.wait_exit)
                nursery.cancel_scope.cancel()

            async def stopped() -> None:
                await self._stopped.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(stopped)
            if server is not None:
                nursery.start_soon(server_exit)
        if exit_code is None or self._stopped.is_set():
            return RunOutcome(restartable=False, error=None)
        assert server is not None
        _log.warning(
            "the Temporal dev server of %s exited on its own (status %s); restarting it",
            self.entry.id,
            exit_code,
        )
        await self.host.bridge.run(server.stop)  # frees its database lock
        return RunOutcome(
            restartable=True,
            error=f"Unavailable: the embedded Temporal dev server exited (status {exit_code})",
        )

    async def stop(self, timeout: float) -> None:
        self.host.router.clients.pop(self.entry.id, None)
        self.host.ui_addresses.pop(self.entry.id, None)
        if self.server is not None:
            with trio.move_on_after(timeout):
                await self.host.bridge.run(self.server.stop)
        self._stopped.set()


class WorkerRun:
    """An SDK worker polling one task queue with the orrery workflow and activities."""

    def __init__(self, host: TemporalHost, entry: TemporalWorkerEntry) -> None:
        self.host = host
        self.entry = entry
        self.worker: temporalio.worker.Worker | None = None
        self._future: concurrent.futures.Future[Any] | None = None
        self._done = trio.Event()
        self._error: str | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def pid(self) -> str | None:
        return None

    def _context(self) -> WorkerContext:
        # the node's effective memory limit, which open_node(max_memory=) may override
        return worker_context(
            self.host.registry, self.entry.id, max_memory=self.host.native.max_memory
        )

    async def start(self) -> None:
        client = self.host.router.clients.get(self.entry.client)
        if client is None:
            raise error_for("Unavailable", f"temporal client {self.entry.client} is not running")
        # One thread runs every workflow activation of this worker, so its Lua
        # state is only ever touched from that thread.
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="orrery-wf")
        options = dict(self.entry.worker_options)
        self.worker = temporalio.worker.Worker(
            client,
            task_queue=self.entry.task_queue,
            workflows=[] if options.get("disable_workflow_worker") else [LuaWorkflow],
            activities=make_activities(self.host.bridge, self.host.native),
            interceptors=[WorkerInterceptor(self._context())],
            workflow_task_executor=self._executor,
            workflow_runner=temporalio.worker.UnsandboxedWorkflowRunner(),
            **worker_kwargs(options, self.entry.lifecycle.stop_timeout),
        )
        self._future = self.host.bridge.submit(self.worker.run())
        self._future.add_done_callback(self._ended)
        _log.info("temporal worker %s polling task queue %s", self.entry.id, self.entry.task_queue)

    def _ended(self, fut: concurrent.futures.Future[Any]) -> None:
        exc = fut.exception() if not fut.cancelled() else None
        if exc is not None:
            self._error = f"Internal: worker failed: {exc}"
        with contextlib.suppress(Exception):  # the bridge is gone: the node is stopping
            self.host.bridge.call_soon_trio(self._done.set)

    async def wait(self) -> RunOutcome:
        await self._done.wait()
        if self._error:
            return RunOutcome(restartable=True, error=self._error)
        return RunOutcome(restartable=True, error="Internal: worker stopped unexpectedly")

    async def stop(self, timeout: float) -> None:
        worker = self.worker
        if worker is not None:
            with trio.move_on_after(timeout + 1):
                await self.host.bridge.run(worker.shutdown)
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        self._done.set()


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


# worker_options key -> SDK Worker parameter (docs/reference/yaml-kinds.md, "temporal.worker");
# sizes and flags
_WORKER_PARAMS = {
    "identity": "identity",
    "max_concurrent_activity_execution_size": "max_concurrent_activities",
    "max_concurrent_workflow_task_execution_size": "max_concurrent_workflow_tasks",
    "max_concurrent_local_activity_execution_size": "max_concurrent_local_activities",
    "max_concurrent_activity_task_pollers": "max_concurrent_activity_task_polls",
    "max_concurrent_workflow_task_pollers": "max_concurrent_workflow_task_polls",
    "disable_eager_activities": "disable_eager_activity_execution",
}
# rates and throttles where 0 means "leave the SDK default"
_WORKER_OPTIONAL: dict[str, tuple[str, Callable[[float], object]]] = {
    "worker_activities_per_second": ("max_activities_per_second", float),
    "task_queue_activities_per_second": ("max_task_queue_activities_per_second", float),
    "max_heartbeat_throttle_interval": ("max_heartbeat_throttle_interval", _seconds),
    "default_heartbeat_throttle_interval": ("default_heartbeat_throttle_interval", _seconds),
}


def worker_kwargs(options: dict[str, Any], stop_timeout: float) -> dict[str, Any]:
    """SDK ``Worker`` keyword arguments from validated ``worker_options``.

    Keys the Python SDK has no counterpart for (sessions, eager workflow slots,
    local-activity rate, registration aliasing) are accepted and ignored, as the
    spec says. ``worker_stop_timeout: 0s`` means the lifecycle ``stop_timeout``.
    """
    kwargs: dict[str, Any] = {}
    for key, param in _WORKER_PARAMS.items():
        if key in options:
            kwargs[param] = options[key]
    for key, (param, convert) in _WORKER_OPTIONAL.items():
        if options.get(key):
            kwargs[param] = convert(options[key])
    if "sticky_schedule_to_start_timeout" in options:
        kwargs["sticky_queue_schedule_to_start_timeout"] = _seconds(
            options["sticky_schedule_to_start_timeout"]
        )
    if options.get("local_activity_worker_only"):
        kwargs["no_remote_activities"] = True
    kwargs["graceful_shutdown_timeout"] = _seconds(
        options.get("worker_stop_timeout") or stop_timeout
    )
    kwargs.setdefault("max_concurrent_workflow_tasks", 16)
    return kwargs
