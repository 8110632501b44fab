"""Operations of native processes (and the Python API) on workflow PIDs.

Implements :class:`orrery.hosts.RemoteRouter` for the native host: starting
workflows (with the ID conflict rules and startup messages of docs/reference/temporal.md, "Starting
workflows"),
signals, terminate, cancel (with deadlines enforced by this node), and the
watchers behind monitors and links on workflows (§15). Every Temporal call runs
on the asyncio thread; results come back to the trio side.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import temporalio.client
import temporalio.common
import temporalio.exceptions
import temporalio.service
from temporalio.common import RawValue

from ...runtime._codec import ErrorValue, decode, encode
from ...runtime._errors import OrreryError, error_for
from ...runtime._pid import Pid
from ._converter import Packed, error_from_failure, raw, to_msgpack
from ._options import common_kwargs, conflict_policy, duration, normalise
from ._workflow import CANCEL_SIGNAL, CONTEXT_HEADER, FROM_HEADER, header

if TYPE_CHECKING:
    from .._native import NativeRuntime
    from ._bridge import AsyncioThread

_log = logging.getLogger("orrery.temporal")

#: Headers the client interceptor adds to the next start / signal of this task.
CLIENT_HEADERS: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "orrery_client_headers", default=None
)


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(self, input: temporalio.client.StartWorkflowInput) -> Any:
        extra = CLIENT_HEADERS.get()
        if extra:
            input.headers = {**input.headers, **extra}
        return await super().start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        extra = CLIENT_HEADERS.get()
        if extra and FROM_HEADER in extra:
            input.headers = {**input.headers, FROM_HEADER: extra[FROM_HEADER]}
        return await super().signal_workflow(input)


class ClientInterceptor(temporalio.client.Interceptor):
    """Adds orrery's context and sender headers to starts and signals."""

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next)


def rpc_error(exc: BaseException) -> OrreryError:
    """Maps client-side failures to orrery errors (docs/reference/temporal.md, "Error mapping")."""
    if isinstance(exc, temporalio.exceptions.WorkflowAlreadyStartedError):
        return error_for(
            "AlreadyExists", f"workflow {exc.workflow_id} is already running", retryable=False
        )
    if isinstance(exc, temporalio.service.RPCError):
        status = exc.status
        if status == temporalio.service.RPCStatusCode.NOT_FOUND:
            return error_for("NotFound", exc.message, retryable=False)
        if status == temporalio.service.RPCStatusCode.INVALID_ARGUMENT:
            return error_for("Invalid", exc.message, retryable=False)
        if status == temporalio.service.RPCStatusCode.ALREADY_EXISTS:
            return error_for("AlreadyExists", exc.message, retryable=False)
        if status == temporalio.service.RPCStatusCode.UNAVAILABLE:
            return error_for("Unavailable", exc.message, retryable=True)
        if status == temporalio.service.RPCStatusCode.DEADLINE_EXCEEDED:
            return error_for("Timeout", exc.message, retryable=True)
        return error_for("Internal", exc.message)
    if isinstance(exc, OrreryError):
        return exc
    if isinstance(
        exc, (temporalio.exceptions.FailureError, temporalio.client.WorkflowFailureError)
    ):
        err = error_from_failure(getattr(exc, "cause", None) or exc)
        return error_for(err.kind, err.message, retryable=err.retryable, details=err.details)
    return error_for("Internal", str(exc))


def _not_found(exc: temporalio.service.RPCError, pid: str, what: str) -> Exception:
    """``NotFound`` naming the workflow of ``pid`` for a NOT_FOUND answer; else ``exc``."""
    if exc.status == temporalio.service.RPCStatusCode.NOT_FOUND:
        return error_for("NotFound", f"workflow {_workflow_id(pid)} {what}")
    return exc


def _workflow_id(pid: str) -> str:
    return Pid.parse(pid).id


def _host_of(pid: str) -> str:
    return Pid.parse(pid).host


class TemporalRouter:
    """Carries out native-side operations on workflow PIDs.

    Args:
        bridge: the asyncio thread the SDK runs on.
        native: the node's native runtime (to deliver EXIT / LINK_DOWN events).
        workers: temporal.worker entry ID -> (client entry ID, task queue).
        type_names: entry ID -> workflow type name, per worker entry ID.
    """

    def __init__(self, bridge: AsyncioThread, native: NativeRuntime) -> None:
        self.bridge = bridge
        self.native = native
        self.clients: dict[str, temporalio.client.Client] = {}
        self.namespaces: dict[str, str] = {}
        self.workers: dict[str, tuple[str, str]] = {}
        self.type_names: dict[str, dict[str, str]] = {}
        self._instance = uuid.uuid4().hex
        self._counter = itertools.count(1)
        self._watchers: dict[tuple[str, str, str], asyncio.Task[Any]] = {}
        #: the operations the native host forwards for workflow PIDs (py.remote), by name
        self._ops: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "spawn": self._op_spawn,
            "exec": self._op_exec,
            "send": self._op_send,
            "terminate": self._op_terminate,
            "cancel": self._op_cancel,
            "watch": self._op_watch,
            "unwatch": self._op_unwatch,
        }

    # -- plumbing ---------------------------------------------------------------------

    async def remote(self, op: str, args: Any) -> Any:
        """Entry point from the trio side (``py.remote``)."""
        return await self.bridge.run(self._dispatch, op, args)

    async def _dispatch(self, op: str, args: Any) -> Any:
        handler = self._ops.get(op)
        if handler is None:
            raise error_for("Invalid", f"operation {op} is not supported on workflows")
        try:
            return await handler(args)
        except OrreryError:
            raise
        except Exception as exc:  # map SDK failures
            raise rpc_error(exc) from None

    def _client_for(self, host: str) -> tuple[temporalio.client.Client, str, str]:
        if host not in self.workers:
            raise error_for("NotFound", f"unknown host {host}")
        client_id, task_queue = self.workers[host]
        client = self.clients.get(client_id)
        if client is None:
            raise error_for("Unavailable", f"temporal client {client_id} is not running")
        return client, client_id, task_queue

    def _handle(self, pid: str) -> temporalio.client.WorkflowHandle[Any, Any]:
        client, _, _ = self._client_for(_host_of(pid))
        return client.get_workflow_handle(_workflow_id(pid), result_type=RawValue)

    def _deliver_event(self, pid: str, event: dict[str, Any]) -> None:
        data = encode(event)
        self.bridge.call_soon_trio(self.native._lua, self.native.H.ext_event, pid, data)

    # -- start --------------------------------------------------------------------------------

    async def start(
        self, spec: dict[str, Any]
    ) -> tuple[str, temporalio.client.WorkflowHandle[Any, Any]]:
        """Starts (or reuses) a workflow for a spawn spec; returns its PID and handle."""
        host = spec["host"]
        client, client_id, queue = self._client_for(host)
        entry = spec["entry"]
        names = self.type_names.get(host, {})
        opts = normalise(spec.get("options"), "top")
        if entry not in names and "task_queue" not in opts:
            raise error_for("Invalid", f"workflow {entry} is not registered with {host}")
        type_name = names.get(entry, entry)
        explicit = opts.get("id") or spec.get("name")
        if explicit is not None and any(c in explicit for c in "{}|"):
            raise error_for("Invalid", "workflow IDs must not contain { } or |")
        workflow_id = explicit or f"{self._instance}_{next(self._counter)}"
        policy = conflict_policy(opts, explicit is not None)
        kwargs = common_kwargs(opts, self.namespaces.get(client_id, "default"))
        kwargs["id_conflict_policy"] = temporalio.common.WorkflowIDConflictPolicy[policy]
        if opts.get("enable_eager_start"):
            kwargs["request_eager_start"] = True
        if "start_delay" in opts:
            kwargs["start_delay"] = duration(opts["start_delay"], "start_delay")
        args = _values(spec.get("args"), spec.get("n"))
        messages = list(spec.get("messages") or [])
        headers: dict[str, Any] = {}
        if spec.get("ctx"):
            headers[CONTEXT_HEADER] = header(spec["ctx"])
        if spec.get("from"):
            headers[FROM_HEADER] = header(spec["from"])
        token = CLIENT_HEADERS.set(headers)
        try:
            first = None
            if messages and policy == "USE_EXISTING":
                first = messages.pop(0)
                kwargs["start_signal"] = first["topic"]
                kwargs["start_signal_args"] = [
                    raw(encode(v)) for v in _values(first.get("values"), first.get("n"))
                ]
            handle = await client.start_workflow(
                type_name,
                args=[raw(encode(a)) for a in args],
                id=workflow_id,
                task_queue=opts.get("task_queue") or queue,
                result_type=RawValue,
                **kwargs,
            )
            for message in messages:
                await handle.signal(
                    message["topic"],
                    args=[raw(encode(v)) for v in _values(message.get("values"), message.get("n"))],
                )
        finally:
            CLIENT_HEADERS.reset(token)
        pid = str(Pid(client_id, host, workflow_id))
        return pid, handle

    async def _op_spawn(self, spec: dict[str, Any]) -> str:
        pid, handle = await self.start(spec)
        watcher = spec.get("from")
        if watcher:
            if spec.get("monitor"):
                self._watch(watcher, pid, "monitor", handle)
            if spec.get("link"):
                self._watch(watcher, pid, "link", handle)
        return pid

    async def _op_exec(self, spec: dict[str, Any]) -> Any:
        _, handle = await self.start(spec)
        try:
            result = await handle.result(follow_runs=True)
        except temporalio.client.WorkflowFailureError as exc:
            err = error_from_failure(exc.cause)
            raise error_for(
                err.kind, err.message, retryable=err.retryable, details=err.details
            ) from None
        return decode(result_bytes(result))

    # -- messages, terminate, cancel --------------------------------------------------------------

    async def _op_send(self, args: dict[str, Any]) -> bool:
        handle = self._handle(args["dest"])
        token = CLIENT_HEADERS.set({FROM_HEADER: header(args["from"])} if args.get("from") else {})
        try:
            await handle.signal(
                args["topic"],
                args=[raw(encode(v)) for v in _values(args.get("values"), args.get("n"))],
            )
        except temporalio.service.RPCError as exc:
            raise _not_found(exc, args["dest"], "is not running") from None
        finally:
            CLIENT_HEADERS.reset(token)
        return True

    async def _op_terminate(self, args: dict[str, Any]) -> bool:
        handle = self._handle(args["target"])
        try:
            await handle.terminate(reason=f"terminated by {args.get('by') or '{|system}'}")
        except temporalio.service.RPCError as exc:
            raise _not_found(exc, args["target"], "is not running") from None
        return True

    async def _op_cancel(self, args: dict[str, Any]) -> bool:
        target = args["target"]
        handle = self._handle(target)
        deadline_ns = args.get("deadline_ns")
        meta: dict[str, Any] = {
            "from": args.get("from") or "{|system}",
            "reason": args.get("reason") or "",
        }
        if deadline_ns:
            at = datetime.now(UTC).timestamp() + deadline_ns / 1e9
            meta["deadline"] = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            await handle.signal(CANCEL_SIGNAL, Packed(encode(meta)))
            await handle.cancel()
        except temporalio.service.RPCError as exc:
            raise _not_found(exc, target, "is not running") from None
        if deadline_ns:
            asyncio.get_running_loop().create_task(self._enforce(handle, deadline_ns / 1e9))
        return True

    async def _enforce(
        self, handle: temporalio.client.WorkflowHandle[Any, Any], delay: float
    ) -> None:
        await asyncio.sleep(delay)
        try:
            desc = await handle.describe()
            if desc.status == temporalio.client.WorkflowExecutionStatus.RUNNING:
                await handle.terminate(reason="cancel deadline exceeded")
        except Exception:  # gone already
            _log.debug("cancel deadline of %s: nothing to terminate", handle.id)

    # -- watchers --------------------------------------------------------------------------

    async def _op_watch(self, args: dict[str, Any]) -> bool:
        target = args["target"]
        handle = self._handle(target)
        try:
            desc = await handle.describe()
        except temporalio.service.RPCError as exc:
            raise _not_found(exc, target, "does not exist") from None
        client, _, _ = self._client_for(_host_of(target))
        pinned = client.get_workflow_handle(handle.id, run_id=desc.run_id, result_type=RawValue)
        self._watch(args["watcher"], target, args["mode"], pinned)
        return True

    async def _op_unwatch(self, args: dict[str, Any]) -> bool:
        task = self._watchers.pop((args["watcher"], args["target"], args["mode"]), None)
        if task is not None:
            task.cancel()
        return True

    def _watch(
        self,
        watcher: str,
        target: str,
        mode: str,
        handle: temporalio.client.WorkflowHandle[Any, Any],
    ) -> None:
        key = (watcher, target, mode)
        if key in self._watchers:
            return
        self._watchers[key] = asyncio.get_running_loop().create_task(self._wait(key, handle))

    async def _wait(
        self, key: tuple[str, str, str], handle: temporalio.client.WorkflowHandle[Any, Any]
    ) -> None:
        watcher, target, mode = key
        try:
            result = await handle.result(follow_runs=True, rpc_timeout=None)
            record: dict[str, Any] = {"value": decode(result_bytes(result))}
        except asyncio.CancelledError:
            raise
        except temporalio.client.WorkflowFailureError as exc:
            record = {"error": error_from_failure(exc.cause)}
        except Exception as exc:
            record = {"error": ErrorValue("Internal", str(exc), None, None)}
        finally:
            self._watchers.pop(key, None)
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        kind = "pid.exit"
        if mode == "link" and "error" in record:
            kind = "pid.link.down"
        self._deliver_event(watcher, {"kind": kind, "from": target, "at": at, "result": record})

    def drop_watches(self, pid: str) -> None:
        """Forgets the watchers of a native process that ended."""

        def drop() -> None:
            for key in [k for k in self._watchers if k[0] == pid]:
                self._watchers.pop(key).cancel()

        self.bridge.loop.call_soon_threadsafe(drop)


def result_bytes(result: Any) -> bytes:
    """The orrery encoding of a workflow result, however the SDK decoded it."""
    if isinstance(result, Packed):
        return result.data
    if isinstance(result, RawValue):
        return to_msgpack(result.payload)
    return encode(result)


def _values(values: Any, n: Any = None) -> list[Any]:
    if values is None:
        values = []
    if isinstance(values, dict):
        count = int(n or 0)
        return [values.get(i) for i in range(1, count + 1)]
    items = list(values)
    if n is not None and int(n) > len(items):
        items += [None] * (int(n) - len(items))
    return items
