"""The workflow driver: one dynamic Temporal workflow runs every Lua entry.

Each workflow run is a process in its worker's workflow Lua state (one state
per worker, touched only by the worker's single workflow thread). The driver
loop is the step machine of docs/reference/semantics.md, "Execution" with Temporal as the executor:

1. deliver what arrived (signals, command results, cancel requests) to the
   process, in the order the SDK produced them;
2. run one step (``H.step``);
3. start the step's commands, each as its own asyncio task in the workflow's
   deterministic loop (so cancelling the main task never cancels them);
4. wait until something arrives, and repeat until the process exits.

Because history fixes the order in which the SDK resolves timers, activities
and signals, a replay feeds the process the same inputs in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import temporalio.api.common.v1
import temporalio.common
import temporalio.exceptions
import temporalio.worker
from lupa.lua54 import LuaMemoryError
from temporalio import workflow
from temporalio.common import RawValue

from ...runtime._codec import ErrorValue, decode, encode
from ...runtime._engine import LuaEngine, lua_file
from ...runtime._errors import InvalidError, OrreryError
from ...runtime._logging import log_from_lua
from ...runtime._pid import Pid
from ...runtime._sizes import format_bytes
from ._converter import (
    Packed,
    application_error,
    array_of,
    error_from_failure,
    raw,
    signal_values,
    to_msgpack,
    values_from_payloads,
)
from ._options import activity_kwargs, child_kwargs, normalise, search_attributes

if TYPE_CHECKING:
    from ...runtime._registry import Registry

_log = logging.getLogger("orrery.workflow")

CONTEXT_HEADER = "orrery-context"
FROM_HEADER = "orrery-from"
CANCEL_SIGNAL = "@orrery.cancel"
DELIVER_ACTIVITY = "__orrery_deliver"
RANDOM_ACTIVITY = "__orrery_random"
#: Memo key: how many signals the workflow dropped (docs/guide.md, "Signals that cannot be
#: decoded"); ``orrery inspect`` shows it.
DROPPED_MEMO = "orrery.dropped_signals"
#: Patch marker recording that the n-th signal was dropped for lack of memory.
DROPPED_MARKER = "orrery.dropped-signal/"
#: What Lua raises when an allocation fails (K.MEMERR in runtime/lua/kernel.lua).
_MEMERR = "not enough memory"


def header(value: Any) -> temporalio.api.common.v1.Payload:
    """A header payload holding an encoded value."""
    return temporalio.api.common.v1.Payload(
        metadata={"encoding": b"binary/msgpack"}, data=encode(value)
    )


def rfc3339(dt: datetime) -> str:
    """RFC 3339 UTC text of a datetime (microseconds)."""
    text = dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


@attrs.define
class WorkerContext:
    """What a worker's workflows need: identities, entries and the Lua state.

    Attributes:
        worker_id: the temporal.worker entry ID.
        client_id: the temporal.client entry ID (node part of workflow PIDs).
        task_queue: the effective task queue.
        namespace: the client's namespace.
        types: workflow type name -> entry ID, for every entry this worker runs.
        type_names: entry ID -> workflow type name.
        entries: Lua entries to define in the workflow state.
        workers: every temporal.worker entry ID -> its client ID (for routing).
        max_memory: byte limit of the workflow Lua state (0 = none): the node's
            ``lua_memory_limit``. A workflow whose allocation fails at the limit fails with
            ``Internal: <entry>: out of memory``; the worker and the other workflows go on.
    """

    worker_id: str
    client_id: str
    task_queue: str
    namespace: str
    types: dict[str, str]
    type_names: dict[str, str]
    entries: list[Any]
    workers: dict[str, str]
    queues: dict[str, str] = attrs.Factory(dict)  # worker id -> task queue
    max_memory: int = 0
    #: workflow ID -> (op, detail, "file:line") of the last command its code issued,
    #: to name the Lua line when a replay diverges from history.
    last_command: dict[str, tuple[str, str, str]] = attrs.Factory(dict)
    _engine: LuaEngine | None = None

    def engine(self) -> LuaEngine:
        """The workflow Lua state, created on first use (on the workflow thread)."""
        if self._engine is None:
            bridge: dict[str, Callable[..., Any]] = {
                "now": _now_ns,
                "monotonic": _monotonic,
                "random": _random_bytes,
                "log": _log_record,
                "info": _info,
                "version": _version,
                "history_length": lambda: workflow.info().get_current_history_length(),
                "history_size": lambda: workflow.info().get_current_history_size(),
                "attrs": _attrs,
            }
            engine = LuaEngine(
                lua_file("orrery.hosts.temporal", "ops.lua"),
                bridge,
                {
                    "node": self.client_id,
                    "deterministic": True,
                    "workers": self.workers,
                    "hook_count": 25_000,
                    "budget_ticks": 8_000,
                },
                max_memory=self.max_memory,
            )
            for entry in self.entries:
                engine.define(entry)
            self._engine = engine
        return self._engine


def workflow_types(registry: Registry) -> tuple[dict[str, str], dict[str, str]]:
    """``(type name -> entry ID, entry ID -> type name)`` of the workflow-capable entries.

    Every worker runs every ``workflow.lua`` and ``process.lua`` entry, under its custom
    ``meta.temporal.workflow.name`` or else its entry ID (the registry keeps names unique).
    """
    types: dict[str, str] = {}
    type_names: dict[str, str] = {}
    for entry in registry.of_kind("workflow.lua", "process.lua"):
        name = getattr(entry, "workflow_name", None) or entry.id
        type_names[entry.id] = name
        types.setdefault(name, entry.id)
    return types, type_names


def worker_context(
    registry: Registry,
    worker_id: str,
    *,
    task_queue: str | None = None,
    max_memory: int | None = None,
) -> WorkerContext:
    """The context of a ``temporal.worker`` entry's workflows, built from the registry.

    Used by a running worker and by replays, so that a replayed workflow issues
    the commands (child task queues and namespaces included) its worker issued.

    Args:
        registry: the loaded registry.
        worker_id: the ``temporal.worker`` entry.
        task_queue: the effective task queue (default: the entry's).
        max_memory: the workflow Lua state's byte limit (default: the registry's
            ``lua_memory_limit``; a node passes its effective limit).
    """
    worker = registry.worker(worker_id)
    client = registry.client(worker.client)
    workers = registry.workers()
    types, type_names = workflow_types(registry)
    return WorkerContext(
        worker_id=worker_id,
        client_id=worker.client,
        task_queue=task_queue or worker.task_queue,
        namespace=client.temporal_namespace,
        types=types,
        type_names=type_names,
        entries=list(registry.of_kind("workflow.lua", "process.lua", "function.lua")),
        workers={w.id: w.client for w in workers},
        queues={w.id: w.task_queue for w in workers},
        max_memory=registry.config.lua_memory_limit if max_memory is None else max_memory,
    )


_current: contextvars.ContextVar[LuaWorkflow | None] = contextvars.ContextVar(
    "orrery_wf", default=None
)


# -- bridge callbacks (run inside the workflow, during a step) ------------------------------


def _now_ns() -> int:
    now = workflow.now()
    return int(now.timestamp()) * 1_000_000_000 + now.microsecond * 1000


def _monotonic() -> float:
    return (workflow.now() - workflow.info().start_time).total_seconds()


def _random_bytes(n: int) -> bytes:
    return workflow.random().randbytes(n)


def _log_record(
    level: bytes, pid: bytes, entry: bytes, message: bytes, fields: bytes | None
) -> None:
    """A workflow's ``logger`` call, logged once: never again while the workflow replays."""
    if not workflow.unsafe.is_replaying():
        log_from_lua(level, pid, entry, message, fields)


def _info() -> bytes:
    info = workflow.info()
    return encode(
        {
            "workflow_id": info.workflow_id,
            "run_id": info.run_id,
            "workflow_type": info.workflow_type,
            "task_queue": info.task_queue,
            "namespace": info.namespace,
            "attempt": info.attempt,
            "history_length": info.get_current_history_length(),
            "history_size": info.get_current_history_size(),
        }
    )


def _version(change: bytes, low: int, high: int) -> tuple[bool, Any]:
    change_id = change.decode()
    for version in range(high, low - 1, -1):
        if workflow.patched(f"orrery.version/{change_id}/{version}"):
            return True, version
    if low <= -1:
        return True, -1
    message = (
        f"change {change_id}: the version recorded by this execution is outside [{low}, {high}]"
    )
    driver = _current.get()
    if driver is not None:
        driver.task_failure = message
    return False, message.encode()


def _attrs(data: bytes) -> tuple[bool, bytes] | bool:
    value = decode(data) or {}
    try:
        if value.get("memo"):
            workflow.upsert_memo(value["memo"])
        if value.get("search"):
            typed = search_attributes(value["search"])
            workflow.upsert_search_attributes([pair.key.value_set(pair.value) for pair in typed])
    except Exception as exc:
        return False, str(exc).encode()
    return True


# -- the workflow ------------------------------------------------------------------------------


@workflow.defn(dynamic=True, sandboxed=False)
class LuaWorkflow:
    """Runs the Lua entry registered under the workflow type name."""

    def __init__(self) -> None:
        #: what arrived, as (bytes it copies into Lua, the call that delivers it)
        self._inputs: deque[tuple[int, Callable[[Any, Any], None]]] = deque()
        self.ctx_bytes: bytes | None = None
        #: the orrery-from header of the signal being handled (set by _Inbound)
        self.pending_from: temporalio.api.common.v1.Payload | None = None
        self._signals = 0  # message signals seen, numbering the drop markers
        self._dropped = 0
        self.next_ctx: bytes | None = None
        self.pid = ""
        self.task_failure: str | None = None
        self._sdk_cancel_expected = False
        self._cancel_seen = False
        self._deliveries: dict[str, asyncio.Task[Any]] = {}
        self._context: WorkerContext | None = None
        #: the commands ops.lua issues (H.* in hosts/temporal/ops.lua), by op name
        self._commands: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "sleep": self._cmd_sleep,
            "timer": self._cmd_timer,
            "activity": self._cmd_activity,
            "entropy": self._cmd_entropy,
            "deliver": self._cmd_deliver,
            "signal": self._cmd_signal,
            "cancel_external": self._cmd_cancel_external,
            "child": self._cmd_child,
        }

    @workflow.signal(dynamic=True)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Every signal becomes a message (or, for @orrery.cancel, cancel metadata).

        Anyone with access to the namespace can signal, so a signal that cannot become a
        message is dropped with one logged error, never raised: raising here would fail the
        workflow task on every retry, or the workflow (docs/guide.md, "Signals that cannot
        be decoded"). Later signals are delivered in order.
        """
        header, self.pending_from = self.pending_from, None
        if name != CANCEL_SIGNAL and name.startswith("@"):
            return
        try:
            if name == CANCEL_SIGNAL:
                meta = decode(to_msgpack(args[0].payload)) if args else {}
            else:
                sender = _sender(header)
                values = signal_values([a.payload for a in args])
        except Exception as exc:  # whatever a client sent: drop it, never raise
            self._drop_signal(name, getattr(exc, "message", None) or str(exc))
            return
        if name == CANCEL_SIGNAL:
            # each orrery cancel is one CANCEL event; Temporal coalesces the
            # cancellation requests that follow, so the next one is absorbed
            self._sdk_cancel_expected = True
            self._cancel_event(meta if isinstance(meta, dict) else {})
            return
        self._signals += 1
        seq = self._signals
        self._inputs.append(
            (
                0,
                lambda e, proc: self._deliver_signal(
                    e, proc, seq=seq, name=name, sender=sender, values=values
                ),
            )
        )

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> Any:
        """The driver loop."""
        info = workflow.info()
        context = self._context  # installed by the worker's interceptor (WorkerInterceptor)
        if context is None:
            raise RuntimeError(f"no orrery worker context for task queue {info.task_queue}")
        entry_id = context.types.get(info.workflow_type)
        if entry_id is None:
            raise RuntimeError(
                f"workflow type {info.workflow_type} is not registered on {context.worker_id}"
            )
        engine = context.engine()
        H, K = engine.H, engine.K
        self.pid = workflow_pid(context.client_id, context.worker_id, info.workflow_id)
        arg_bytes = values_from_payloads([a.payload for a in args])
        proc = None
        try:
            size = len(arg_bytes) + len(self.ctx_bytes or b"")
            proc = self._into_lua(
                size,
                H.start,
                self.pid.encode(),
                entry_id.encode(),
                context.worker_id.encode(),
                arg_bytes,
                self.ctx_bytes,
            )
            while True:
                while self._inputs:
                    size, deliver = self._inputs.popleft()
                    self._into_lua(size, deliver, engine, proc)
                token = _current.set(self)
                try:
                    dead = self._into_lua(0, H.step, proc)
                finally:
                    _current.reset(token)
                if self.task_failure:
                    raise RuntimeError(self.task_failure)
                if dead:
                    break
                outbox = H.take_outbox(proc)
                if outbox is not None:
                    for data in outbox.values():
                        self._start(K, decode(data))
                try:
                    await workflow.wait_condition(lambda: bool(self._inputs))
                except asyncio.CancelledError:
                    self._cancel_requested()
            record = decode(self._into_lua(0, H.result, proc)) or {}
        except _OutOfMemory as exc:
            # the state is full while the host (not the process) hands Lua a value
            record = {"error": ErrorValue("Internal", f"{entry_id}: {exc}", False, None)}
        finally:
            if proc is not None:
                with contextlib.suppress(LuaMemoryError):
                    H.drop(proc)
        error = record.get("error") if isinstance(record, dict) else None
        if isinstance(error, ErrorValue):
            if "step budget exceeded" in error.message:
                raise RuntimeError(f"{entry_id}: {error.message}")
            out_of_memory = error.kind == "Internal" and "out of memory" in error.message
            if out_of_memory and not workflow.unsafe.is_replaying():
                # deterministic: retrying the task would fail the same way, so the
                # workflow fails (non-retryable), and the worker and its neighbours go on
                _log.error("workflow %s failed: %s", self.pid, error.message)
            if error.kind == "Canceled" and self._cancel_seen:
                raise asyncio.CancelledError(error.message)
            raise application_error(error)
        value = record.get("value") if isinstance(record, dict) else None
        return Packed(encode(value))

    def _into_lua(self, size: int, fn: Callable[..., Any], *args: Any) -> Any:
        """Calls ``fn(*args)``, a call into the workflow Lua state copying ``size`` bytes.

        Raises:
            _OutOfMemory: the bytes do not fit within the state's limit, or the state ran
                out of memory outside a process (which the kernel would have ended itself).
        """
        context = self._context
        assert context is not None
        limit = context.max_memory
        engine = context.engine()
        why = engine.no_room_for(size) if size else None
        if why is not None:
            raise _OutOfMemory(f"out of memory: {why}")
        try:
            return fn(*args)
        except LuaMemoryError:
            engine.collect()
            raise _OutOfMemory(
                f"out of memory (the node's Lua memory limit of {format_bytes(limit)} was "
                "reached while handing a value to the workflow)"
            ) from None

    # -- inputs -------------------------------------------------------------------------------

    def _deliver_signal(
        self,
        engine: LuaEngine,
        proc: Any,
        *,
        seq: int,
        name: str,
        sender: str | None,
        values: bytes,
    ) -> None:
        """Hands the ``seq``-th signal to the process as a message, or drops it.

        Malformed msgpack and values Lua cannot hold are found by the Lua codec, from the
        bytes alone, so a replay drops them again. Whether the values fit in memory also
        depends on what the worker's Lua state holds at the time, which a replay need not
        reproduce: such a drop leaves a patch marker in history, and a replay drops the
        signals that carry one (docs/guide.md, "Signals that cannot be decoded").
        """
        marker = f"{DROPPED_MARKER}{seq}"
        replaying = workflow.unsafe.is_replaying()
        if replaying and workflow.patched(marker):
            self._drop_signal(name, "it did not fit in memory when it first arrived")
            return
        why = engine.no_room_for(len(values))
        if why is None:
            try:
                problem = engine.H.deliver_message(proc, name.encode(), _b(sender), values)
            except LuaMemoryError:
                problem = _MEMERR
            if problem is None:
                return
            if isinstance(problem, bytes):
                problem = problem.decode(errors="replace")
            if problem != _MEMERR:
                self._drop_signal(name, problem)  # decided by the bytes alone
                return
            engine.collect()
            assert self._context is not None
            why = (
                "its values do not fit in the node's Lua memory limit of "
                f"{format_bytes(self._context.max_memory)}"
            )
        if not replaying:
            workflow.patched(marker)  # records the drop, for replays
        self._drop_signal(name, why)

    def _drop_signal(self, name: str, why: str) -> None:
        """Drops a signal: one error line (not again on replay), and the memo count."""
        self._dropped += 1
        if not workflow.unsafe.is_replaying():
            _log.error(
                "workflow %s dropped signal %r: %s; the workflow goes on without it "
                "(senders must send values orrery can decode, docs/guide.md)",
                workflow.info().workflow_id,
                name,
                why,
            )
        workflow.upsert_memo({DROPPED_MEMO: self._dropped})

    def _cancel_requested(self) -> None:
        """The SDK delivered a cancellation request to the main task."""
        if self._sdk_cancel_expected:
            self._sdk_cancel_expected = False
            return
        self._cancel_event({})  # requested outside orrery (CLI, UI, another SDK)

    def _cancel_event(self, meta: dict[str, Any]) -> None:
        self._cancel_seen = True
        event = {
            "kind": "pid.cancel",
            "from": meta.get("from") or "{|system}",
            "at": rfc3339(workflow.now()),
            "reason": meta.get("reason") or "",
        }
        if meta.get("deadline"):
            event["deadline"] = meta["deadline"]
        data = encode(event)
        self._inputs.append((len(data), lambda e, proc: e.H.deliver_event(proc, data)))

    # -- commands ------------------------------------------------------------------------------

    def _start(self, K: Any, cmd: dict[str, Any]) -> None:
        op = cmd["op"]
        token = cmd["token"]
        if self._context is not None:
            detail = str(
                cmd.get("target") or (cmd.get("spec") or {}).get("entry") or cmd.get("ns") or ""
            )
            self._context.last_command[workflow.info().workflow_id] = (
                op,
                detail,
                cmd.get("where") or "?",
            )
        handler = self._commands.get(op)
        if handler is None:  # a bug in ops.lua: fail the task, naming the command
            raise RuntimeError(f"ops.lua issued an unknown command {op!r}")
        asyncio.get_event_loop().create_task(self._guard(token, op, handler(cmd)))

    async def _guard(self, token: int, op: str, coro: Any) -> None:
        try:
            result = await coro
        except temporalio.workflow.NondeterminismError:
            raise
        except (temporalio.exceptions.FailureError, temporalio.exceptions.TemporalError) as exc:
            self._answer(token, False, encode(error_from_failure(exc)))
            return
        except asyncio.CancelledError:
            self._answer(
                token, False, encode(ErrorValue("Canceled", "operation canceled", False, None))
            )
            return
        except _OrreryFailure as exc:
            self._answer(token, False, encode(exc.error))
            return
        if op == "timer":
            self._answer(token, result)
        else:
            self._answer(token, True, result)

    def _answer(self, token: int, *values: Any) -> None:
        size = sum(len(v) for v in values if isinstance(v, bytes))
        self._inputs.append((size, lambda e, proc: e.K.resolve(token, *values)))

    async def _cmd_sleep(self, cmd: dict[str, Any]) -> None:
        await workflow.sleep(timedelta(microseconds=cmd["ns"] / 1000))

    async def _cmd_timer(self, cmd: dict[str, Any]) -> int:
        await workflow.sleep(timedelta(microseconds=cmd["ns"] / 1000))
        return _now_ns()

    async def _cmd_activity(self, cmd: dict[str, Any]) -> bytes:
        kwargs = _kwargs_or_fail(activity_kwargs, cmd.get("options"))
        base = decode(self.ctx_bytes) if self.ctx_bytes else {}
        overlay = cmd.get("ctx") or {}
        ctx = {**(base or {}), **overlay}
        self.next_ctx = encode(ctx) if ctx else None
        try:
            result = await workflow.execute_activity(
                cmd["target"],
                args=[raw(encode(a)) for a in _args(cmd)],
                result_type=RawValue,
                **kwargs,
            )
        finally:
            self.next_ctx = None
        return to_msgpack(result.payload)

    async def _cmd_entropy(self, cmd: dict[str, Any]) -> bytes:
        result = await workflow.execute_local_activity(
            RANDOM_ACTIVITY,
            args=[Packed(encode(cmd["n"]))],
            result_type=RawValue,
            start_to_close_timeout=timedelta(seconds=10),
        )
        return to_msgpack(result.payload)

    async def _cmd_deliver(self, cmd: dict[str, Any]) -> bytes | None:
        target = str(cmd.get("target"))
        previous = self._deliveries.get(target)
        current = asyncio.current_task()
        if current is not None:
            self._deliveries[target] = current
        if previous is not None and not previous.done():
            with contextlib.suppress(BaseException):  # its failure is its own command's
                await asyncio.shield(previous)
        cmd = dict(cmd, op=cmd["kind"], sender=self.pid)
        result = await workflow.execute_local_activity(
            DELIVER_ACTIVITY,
            args=[Packed(encode(cmd))],
            result_type=RawValue,
            start_to_close_timeout=timedelta(seconds=30),
        )
        answer = decode(to_msgpack(result.payload)) or {}
        if not answer.get("ok"):
            raise _OrreryFailure(
                answer.get("error") or ErrorValue("Internal", "delivery failed", None, None)
            )
        return None

    async def _cmd_signal(self, cmd: dict[str, Any]) -> None:
        workflow_id = Pid.parse(cmd["target"]).id
        handle = workflow.get_external_workflow_handle(workflow_id)
        try:
            await handle.signal(cmd["topic"], args=[raw(encode(v)) for v in _args(cmd, "values")])
        except temporalio.exceptions.ApplicationError as exc:
            raise _OrreryFailure(
                ErrorValue("NotFound", f"workflow {workflow_id}: {exc.message}", False, None)
            ) from None

    async def _cmd_cancel_external(self, cmd: dict[str, Any]) -> None:
        workflow_id = Pid.parse(cmd["target"]).id
        handle = workflow.get_external_workflow_handle(workflow_id)
        try:
            await handle.signal(
                CANCEL_SIGNAL,
                Packed(encode({"from": cmd.get("from"), "reason": cmd.get("reason")})),
            )
            await handle.cancel()
        except temporalio.exceptions.ApplicationError as exc:
            raise _OrreryFailure(
                ErrorValue("NotFound", f"workflow {workflow_id}: {exc.message}", False, None)
            ) from None

    async def _cmd_child(self, cmd: dict[str, Any]) -> bytes:
        context = self._context
        assert context is not None
        spec = cmd["spec"]
        entry = spec["entry"]
        type_name = context.type_names.get(entry)
        if type_name is None:
            raise _OrreryFailure(
                ErrorValue(
                    "NotFound", f"entry {entry} is not a workflow this worker can run", False, None
                )
            )
        host = spec["host"]
        opts = _kwargs_or_fail(normalise, spec.get("options"), "child")
        kwargs = _kwargs_or_fail(child_kwargs, opts, context.namespace)
        task_queue = opts.get("task_queue") or context.queues.get(host) or context.task_queue
        workflow_id = opts.get("id") or spec.get("name")
        if workflow_id is not None and any(c in workflow_id for c in "{}|"):
            raise _OrreryFailure(
                ErrorValue("Invalid", "workflow IDs must not contain { } or |", False, None)
            )
        ctx = spec.get("ctx")
        self.next_ctx = encode(ctx) if ctx else self.ctx_bytes
        try:
            handle = await workflow.start_child_workflow(
                type_name,
                args=[raw(encode(a)) for a in _args(spec)],
                id=workflow_id,
                task_queue=task_queue,
                result_type=RawValue,
                **kwargs,
            )
        finally:
            self.next_ctx = None
        child_pid = workflow_pid(context.client_id, host, handle.id)
        for message in spec.get("messages") or []:
            await handle.signal(
                message["topic"], args=[raw(encode(v)) for v in _args(message, "values")]
            )
        if cmd.get("wait"):
            try:
                result = await handle
            except BaseException as exc:
                raise _OrreryFailure(error_from_failure(exc)) from None
            return to_msgpack(result.payload)
        asyncio.get_event_loop().create_task(self._watch_child(child_pid, handle))
        return encode(child_pid)

    async def _watch_child(self, child_pid: str, handle: Any) -> None:
        try:
            result = await handle
            record: dict[str, Any] = {"value": decode(to_msgpack(result.payload))}
        except BaseException as exc:  # the child failed, was cancelled or terminated
            record = {"error": error_from_failure(exc)}
        event = encode(
            {"kind": "pid.exit", "from": child_pid, "at": rfc3339(workflow.now()), "result": record}
        )
        self._inputs.append((len(event), lambda e, proc: e.H.deliver_event(proc, event)))


class _OutOfMemory(Exception):
    """The workflow Lua state had no room for what the host handed it."""


class _OrreryFailure(Exception):
    def __init__(self, error: ErrorValue) -> None:
        super().__init__(error.message)
        self.error = error


def _kwargs_or_fail(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except OrreryError as exc:
        raise _OrreryFailure(ErrorValue(exc.kind, exc.message, False, None)) from None


def _args(cmd: dict[str, Any], key: str = "args") -> list[Any]:
    values = cmd.get(key) or []
    n = cmd.get("n", len(values))
    if isinstance(values, dict):  # holes: a map with integer keys
        return [values.get(i) for i in range(1, n + 1)]
    return list(values) + [None] * (n - len(values))


def _sender(header: temporalio.api.common.v1.Payload | None) -> str | None:
    """The sender PID in a signal's orrery-from header.

    Raises:
        InvalidError: the header is not an encoded string.
    """
    if header is None:
        return None
    try:
        value = decode(header.data)
    except InvalidError as exc:
        raise InvalidError(f"the {FROM_HEADER} header cannot be decoded ({exc.message})") from None
    if not isinstance(value, str):
        raise InvalidError(f"the {FROM_HEADER} header is not a PID")
    return value


def _b(value: str | None) -> bytes | None:
    return value.encode() if value is not None else None


def workflow_pid(client_id: str, worker_id: str, workflow_id: str) -> str:
    """The PID of a workflow."""
    return str(Pid(client_id, worker_id, workflow_id))


# -- interceptors: context and sender headers -----------------------------------------------------


class _Outbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        inst = workflow.instance()
        if isinstance(inst, LuaWorkflow) and inst.next_ctx:
            input.headers = {**input.headers, CONTEXT_HEADER: _raw_header(inst.next_ctx)}
        return super().start_activity(input)

    async def start_child_workflow(self, input: temporalio.worker.StartChildWorkflowInput) -> Any:
        inst = workflow.instance()
        if isinstance(inst, LuaWorkflow) and inst.next_ctx:
            input.headers = {**input.headers, CONTEXT_HEADER: _raw_header(inst.next_ctx)}
        return await super().start_child_workflow(input)

    async def signal_external_workflow(
        self, input: temporalio.worker.SignalExternalWorkflowInput
    ) -> None:
        inst = workflow.instance()
        if isinstance(inst, LuaWorkflow):
            input.headers = {**input.headers, FROM_HEADER: header(inst.pid)}
        return await super().signal_external_workflow(input)


class _Inbound(temporalio.worker.WorkflowInboundInterceptor):
    #: The context of the worker this class was made for (see WorkerInterceptor).
    context: WorkerContext | None = None

    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        inst = workflow.instance()
        h = input.headers.get(CONTEXT_HEADER)
        if isinstance(inst, LuaWorkflow):
            inst._context = self.context
            if h is not None:
                inst.ctx_bytes = h.data
        return await super().execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        inst = workflow.instance()
        h = input.headers.get(FROM_HEADER)
        if isinstance(inst, LuaWorkflow):
            inst.pending_from = h  # decoded by on_signal, which drops a malformed one
        return await super().handle_signal(input)


def _raw_header(data: bytes) -> temporalio.api.common.v1.Payload:
    return temporalio.api.common.v1.Payload(metadata={"encoding": b"binary/msgpack"}, data=data)


#: The activity's context header value while an activity runs.
ACTIVITY_CONTEXT: contextvars.ContextVar[bytes | None] = contextvars.ContextVar(
    "orrery_activity_ctx", default=None
)


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        h = input.headers.get(CONTEXT_HEADER)
        token = ACTIVITY_CONTEXT.set(h.data if h is not None else None)
        try:
            return await super().execute_activity(input)
        finally:
            ACTIVITY_CONTEXT.reset(token)


class WorkerInterceptor(temporalio.worker.Interceptor):
    """Carries orrery's context and sender headers through workflows and activities.

    It also hands each workflow the :class:`WorkerContext` of the SDK worker (or
    replayer) it was given to: one interceptor per worker, so workers that poll
    task queues of the same name on different clients (servers or namespaces)
    never see each other's context, and stopping one leaves the others alone.

    Args:
        context: the worker's context; ``None`` for an activity-only worker.
    """

    def __init__(self, context: WorkerContext | None = None) -> None:
        self.context = context

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return type("_Inbound", (_Inbound,), {"context": self.context})


__all__ = [
    "ACTIVITY_CONTEXT",
    "LuaWorkflow",
    "WorkerContext",
    "WorkerInterceptor",
    "array_of",
    "header",
    "worker_context",
    "workflow_types",
]
