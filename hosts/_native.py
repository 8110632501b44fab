"""The native host: Lua processes in the node's shared Lua state, driven by trio.

:class:`NativeRuntime` owns the node's native Lua state (every ``process.host``
entry, the built-in ``orrery:functions`` host of function frames and the
``orrery:python`` host of Python mailboxes share it) and the trio tasks that
drive it:

* the *scheduler* runs batches of Lua steps (``K.run``) whenever something is
  runnable, yielding to trio between batches so timers, I/O and the Python API
  stay responsive;
* the *timer loop* keeps one heap of deadlines for every sleeping process,
  cancel deadline and ``time.after`` channel, and resolves them in order.

A message between two native processes never leaves Lua. Python is involved
only for timers, clocks, entropy, logging, the embedding API and operations on
PIDs of other hosts (``remote``), which are handed to a :class:`RemoteRouter`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs
import trio
from lupa.lua54 import LuaError, LuaMemoryError

from ..runtime._codec import ErrorValue, decode, encode
from ..runtime._engine import LuaEngine, lua_file
from ..runtime._errors import OrreryError, error_for
from ..runtime._logging import log_from_lua
from ..runtime._sizes import format_bytes

_log = logging.getLogger("orrery.native")

#: Lua steps per batch before the scheduler lets other trio tasks run.
BATCH_STEPS = 2000

FUNCTIONS_HOST = "orrery:functions"
PYTHON_HOST = "orrery:python"


class RemoteRouter(Protocol):
    """Carries out operations on PIDs that belong to other hosts (workflows)."""

    async def remote(self, op: str, args: Any) -> Any:
        """Performs ``op`` (send, spawn, exec, watch, ...); raises OrreryError."""
        ...


@attrs.frozen
class ExitResult:
    """How a process ended: ``value`` on success, ``error`` on failure."""

    pid: str
    value: Any = None
    error: ErrorValue | None = None

    @property
    def failed(self) -> bool:
        """Whether the process failed."""
        return self.error is not None

    def unwrap(self) -> Any:
        """The value, or raise the error as an :class:`OrreryError`."""
        if self.error is not None:
            raise error_for(
                self.error.kind,
                self.error.message,
                retryable=self.error.retryable,
                details=self.error.details,
            )
        return self.value


def result_from(pid: str, data: bytes) -> ExitResult:
    """Decodes an encoded ``{value=, error=}`` result record."""
    record = decode(data) or {}
    if not isinstance(record, dict):
        record = {}
    return ExitResult(pid=pid, value=record.get("value"), error=record.get("error"))


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _raise(answer: Any) -> Any:
    """Turns an ``ok[, value]`` / ``false, kind, message`` Lua answer into a value or exception.

    Lua returns one value as itself and several as a tuple.
    """
    if not isinstance(answer, tuple):
        answer = (answer,)
    ok, *rest = answer
    if ok:
        return rest[0] if rest else None
    kind, message = _text(rest[0]) or "Internal", _text(rest[1]) or ""
    retryable = rest[2] if len(rest) > 2 else None
    details = decode(rest[3]) if len(rest) > 3 and rest[3] is not None else None
    raise error_for(kind, message, retryable=retryable, details=details)


def _process_record(record: dict[str, Any]) -> dict[str, Any]:
    """Lua encodes an empty list as an empty map: give list fields their shape back."""
    for key in ("links", "monitors", "monitored_by", "names", "listening"):
        if key in record and not record[key]:
            record[key] = []
    return record


@attrs.frozen
class MailboxItem:
    """A message or event received by a Python mailbox.

    Attributes:
        kind: ``"message"`` or ``"event"``.
        topic: the message topic, or the event kind (``"pid.exit"``, ...).
        sender: the sending PID (``None`` when the sender is not a process).
        payload: the message data (one value, ``None``, or a list for several
            values), or the event record as a dict.
    """

    kind: str
    topic: str
    sender: str | None
    payload: Any


class Mailbox:
    """A Python-side process: a PID with a mailbox (docs/reference/cli.md, ``node.mailbox()``).

    Messages and events arrive in order; :meth:`receive` returns the next
    message, :meth:`next_event` the next event (EXIT of a monitored process).
    """

    def __init__(self, runtime: NativeRuntime, pid: str) -> None:
        self._runtime = runtime
        self.pid: str = pid
        self._messages: deque[MailboxItem] = deque()
        self._events: deque[MailboxItem] = deque()
        self._arrived = trio.Event()
        self.closed = False

    def _put(self, item: MailboxItem) -> None:
        (self._events if item.kind == "event" else self._messages).append(item)
        self._arrived.set()

    async def _next(self, queue: deque[MailboxItem], timeout: float | None) -> MailboxItem:
        with trio.fail_after(math.inf if timeout is None else timeout):
            while not queue:
                self._arrived = trio.Event()
                await self._arrived.wait()
        return queue.popleft()

    async def receive(self, timeout: float | None = None) -> MailboxItem:
        """The next message; raises ``trio.TooSlowError`` after ``timeout`` seconds."""
        return await self._next(self._messages, timeout)

    async def next_event(self, timeout: float | None = None) -> MailboxItem:
        """The next event (``pid.exit`` of a process this mailbox monitors)."""
        return await self._next(self._events, timeout)

    def monitor(self, pid: str) -> None:
        """Receive a ``pid.exit`` event when the native process ``pid`` ends.

        Raises:
            InvalidError: ``pid`` is a workflow (use :meth:`watch`, which waits for
                the Temporal host to take the watch).
            NotFound: the process is not alive.
        """
        if self._monitor_native(pid) == "remote":
            raise error_for(
                "Invalid", f"{pid} runs on another host: use 'await mailbox.watch(pid)'"
            )

    async def watch(self, pid: str) -> None:
        """Receive a ``pid.exit`` event when ``pid`` ends: a native process or a workflow.

        A workflow that has already ended still delivers its ``pid.exit``.

        Raises:
            NotFound: the process is not alive, or no such workflow exists.
        """
        if self._monitor_native(pid) == "remote":
            router = self._runtime.router
            if router is None:
                raise error_for("Unavailable", f"no host can watch {pid}")
            await router.remote("watch", {"watcher": self.pid, "target": pid, "mode": "monitor"})

    def _monitor_native(self, pid: str) -> str | None:
        return _text(_raise(self._runtime._lua(self._runtime.H.ext_mailbox_monitor, self.pid, pid)))

    def close(self) -> None:
        """Releases the PID; later sends to it fail with NotFound."""
        if not self.closed:
            self.closed = True
            self._runtime._lua(self._runtime.H.ext_close_mailbox, self.pid)


def standalone_engine(node_name: str = "standalone") -> LuaEngine:
    """A native Lua state outside any node, for tests and benches of pure Lua code.

    The kernel, the modules and the sandbox are loaded as in a node; every host operation
    that would need the node (timers, logging, remote calls, ...) raises, and the clock
    stands at zero.
    """

    def refuse(*_: Any) -> Any:
        raise RuntimeError("this engine runs outside a node: no host operation is available")

    names = ("timer", "random", "log", "exit_notify", "mailbox_put", "mailbox_closed")
    bridge: dict[str, Callable[..., Any]] = dict.fromkeys(
        (*names, "remote", "drop_watches"), refuse
    )
    bridge["now"] = lambda: 0
    bridge["monotonic"] = lambda: 0.0
    return LuaEngine(lua_file("orrery.hosts", "native.lua"), bridge, {"node": node_name})


class NativeRuntime:
    """The node's native Lua state and the trio tasks that drive it.

    Args:
        node_name: the node component of native PIDs.
        router: carries out operations on PIDs of other hosts, or ``None``.
        max_memory: byte limit of the Lua state (0 = unlimited).
        budget_ticks / hook_count: the instruction budget of one step
            (``budget_ticks * hook_count`` VM instructions) before a process
            that never waits is killed.
    """

    def __init__(
        self,
        node_name: str = "local",
        *,
        router: RemoteRouter | None = None,
        max_memory: int = 0,
        hook_count: int = 25_000,
        budget_ticks: int = 8_000,
    ) -> None:
        self.node_name = node_name
        self.router = router
        self.max_memory = max_memory
        self._timers: list[tuple[float, int, int]] = []
        self._timer_seq = itertools.count()
        self._timer_scope: trio.CancelScope | None = None
        self._wake = trio.Event()
        self._watch_ids = itertools.count(1)
        self._watches: dict[int, Callable[[str, bytes], None]] = {}
        self._mailboxes: dict[int, Mailbox] = {}
        self._nursery: trio.Nursery | None = None
        self._wall_base = time.time_ns()
        self._trio_base: float | None = None
        bridge: dict[str, Callable[..., Any]] = {
            "now": self._now,
            "monotonic": self._monotonic,
            "timer": self._add_timer,
            "random": os.urandom,
            "log": log_from_lua,
            "exit_notify": self._exit_notify,
            "mailbox_put": self._mailbox_put,
            "mailbox_closed": self._mailbox_closed,
            "remote": self._remote,
            "drop_watches": self._drop_watches,
            "trace": self._trace,
        }
        self._tracer: Any = None
        self.engine = LuaEngine(
            lua_file("orrery.hosts", "native.lua"),
            bridge,
            {"node": node_name, "hook_count": hook_count, "budget_ticks": budget_ticks},
            max_memory=max_memory,
        )
        self.K = self.engine.K
        self.H = self.engine.H
        self._run_batch = self.K.run

    # -- clock -------------------------------------------------------------------

    def _trio_now(self) -> float:
        now = trio.current_time()
        if self._trio_base is None:
            self._trio_base = now
        return now

    def _now(self) -> int:
        """Unix time in ns: wall time at start plus trio time since (virtual under MockClock)."""
        base = self._trio_base
        now = self._trio_now()
        return self._wall_base + int((now - (base if base is not None else now)) * 1e9)

    def _monotonic(self) -> float:
        base = self._trio_base
        now = self._trio_now()
        return now - (base if base is not None else now)

    # -- driving -------------------------------------------------------------------

    def kick(self) -> None:
        """Tells the scheduler that Lua has runnable work."""
        self._wake.set()

    def _lua(self, fn: Any, *args: Any) -> Any:
        """Calls into Lua from Python and makes sure resulting work is scheduled.

        Raises:
            InternalError: the arguments do not fit in the state's memory limit, or the
                state ran out of memory while handling them.
        """
        values = [a.encode() if isinstance(a, str) else a for a in args]
        if self.max_memory:
            why = self.engine.no_room_for(sum(len(v) for v in values if isinstance(v, bytes)))
            if why is not None:
                raise error_for("Internal", f"out of memory: {why}", retryable=False)
        try:
            return fn(*values)
        except LuaMemoryError:
            self.engine.collect()
            raise error_for(
                "Internal",
                f"out of memory: the node's Lua memory limit of {format_bytes(self.max_memory)} "
                "was reached while handing a value to Lua",
                retryable=False,
            ) from None
        finally:
            self._wake.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Runs the scheduler and the timer loop until cancelled."""
        self._trio_now()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._timer_loop)
            nursery.start_soon(self._scheduler)
            task_status.started()

    def _guarded(self, fn: Any, *args: Any) -> Any:
        """Runs kernel work between steps; a failure there is logged and the node goes on.

        The kernel ends the process whose step failed (``K.recover``); only a failure of that
        recovery itself reaches here (docs/sandbox.md, "Limits").
        """
        try:
            return fn(*args)
        except LuaError:
            _log.exception("the native Lua state failed between steps; the node goes on")
            self.engine.collect()
            return False

    async def _scheduler(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            while self._guarded(self._run_batch, BATCH_STEPS):
                await trio.lowlevel.checkpoint()

    async def _timer_loop(self) -> None:
        timers = self._timers
        while True:
            now = trio.current_time()
            if timers and timers[0][0] <= now:
                fired = self._now()
                resolve = self.K.resolve
                while timers and timers[0][0] <= now:
                    _, _, token = heapq.heappop(timers)
                    self._guarded(resolve, token, fired)
                self._wake.set()
            deadline = timers[0][0] if timers else math.inf
            with trio.CancelScope(deadline=deadline) as scope:
                self._timer_scope = scope
                await trio.sleep_forever()
            self._timer_scope = None

    def _add_timer(self, token: int, ns: int) -> None:
        if not isinstance(ns, int) and not math.isfinite(ns):
            # the modules refuse such durations; a NaN deadline would kill the timer loop
            raise ValueError(f"a timer duration must be a finite number, got {ns!r}")
        deadline = self._trio_now() + ns / 1e9
        heapq.heappush(self._timers, (deadline, next(self._timer_seq), token))
        scope = self._timer_scope
        if scope is not None and deadline < scope.deadline:
            scope.deadline = deadline

    # -- callbacks from Lua ------------------------------------------------------------

    def _trace(self, event: bytes, a: Any, b: Any = None, c: Any = None, d: Any = None) -> None:
        tracer = self._tracer
        if tracer is not None:
            tracer.lua_event(_text(event), _text(a), _text(b), _text(c), _text(d))

    def set_tracer(self, tracer: Any) -> None:
        """Reports spawn, exit and send of native processes to ``tracer`` (None: stop).

        ``tracer.lua_event(event, ...)`` is called with ``"spawn", pid, entry, host,
        parent``, ``"exit", pid, error_kind, error_message`` or ``"send", from, to, topic``.
        """
        self._tracer = tracer
        self._lua(self.H.set_trace, tracer is not None)

    def _exit_notify(self, watch_id: int, pid: bytes, result: bytes) -> None:
        callback = self._watches.pop(watch_id, None)
        if callback is not None:
            callback(_text(pid) or "", result)

    def _mailbox_put(
        self, mailbox_id: int, kind: bytes, topic: bytes, sender: bytes | None, data: bytes
    ) -> None:
        mailbox = self._mailboxes.get(mailbox_id)
        if mailbox is not None:
            mailbox._put(
                MailboxItem(
                    kind=_text(kind) or "",
                    topic=_text(topic) or "",
                    sender=_text(sender),
                    payload=decode(data),
                )
            )

    def _mailbox_closed(self, mailbox_id: int) -> None:
        self._mailboxes.pop(mailbox_id, None)

    def _remote(self, token: int, op: bytes, args: bytes) -> None:
        if self._nursery is None:  # pragma: no cover - only before run()
            self.K.resolve(
                token, False, encode(ErrorValue("Unavailable", "node is not running", None, None))
            )
            return
        self._nursery.start_soon(self._remote_task, token, _text(op) or "", args)

    async def _remote_task(self, token: int, op: str, args: bytes) -> None:
        try:
            if self.router is None:
                raise error_for("Unavailable", f"no host can carry out {op} for this PID")
            result = await self.router.remote(op, decode(args))
            answer = (True, encode(result))
        except OrreryError as exc:
            answer = (
                False,
                encode(ErrorValue(exc.kind, exc.message, exc.retryable, exc.details or None)),
            )
        except Exception as exc:  # a bug in a host must not take the node down
            _log.exception("remote operation %s failed", op)
            answer = (False, encode(ErrorValue("Internal", str(exc), None, None)))
        self._lua(self.K.resolve, token, *answer)

    def _drop_watches(self, pid: bytes) -> None:
        if self.router is not None and hasattr(self.router, "drop_watches"):
            self.router.drop_watches(_text(pid))

    # -- hosts -------------------------------------------------------------------------

    def define_host(self, host_id: str, max_processes: int = 0) -> None:
        """Makes ``host_id`` a native host of this state (stopped)."""
        self._lua(self.H.define_host, host_id, max_processes)

    def set_host_running(self, host_id: str, running: bool) -> None:
        """Lets spawns on ``host_id`` succeed (True) or fail with Unavailable (False)."""
        self._lua(self.H.set_host_running, host_id, running)

    def host_pids(self, host_id: str) -> list[str]:
        """Live PIDs on a host."""
        table = self.H.host_pids(host_id.encode())
        return [_text(v) or "" for v in table.values()]

    def processes(self) -> list[dict[str, Any]]:
        """A snapshot of every live process (the observer's ``ps``), sorted by PID.

        Each record has ``pid``, ``entry``, ``host``, ``state`` (``starting``,
        ``running``, ``runnable``, ``waiting`` or ``exiting``), ``mailbox`` (items
        delivered but not received), ``links``, ``monitors`` (PIDs it monitors),
        ``monitored_by`` and ``names``.
        """
        records = decode(self.H.ext_processes())
        return [_process_record(r) for r in records or ()]

    def process_info(self, dest: str) -> dict[str, Any] | None:
        """One process's record by PID or registered name; ``None`` when it is not alive.

        The record has the fields of :meth:`processes` plus ``coroutines``, ``inbox``,
        ``events`` (whether it subscribed), ``listening`` (topics) and ``traps_links``.
        """
        data = self.H.ext_process_info(dest.encode())
        return None if data is None else _process_record(decode(data))

    def process_count(self) -> int:
        """Live processes in the state (including function frames and mailboxes)."""
        return int(self.K.count())

    async def stop_host(self, host_id: str, timeout: float) -> None:
        """Cancels every process on the host, then terminates what is left.

        See docs/reference/services.md, "Stopping".
        """
        self.set_host_running(host_id, False)
        pids = self.host_pids(host_id)
        if not pids:
            return
        done = trio.Event()
        remaining = set(pids)

        def gone(pid: str, _: bytes) -> None:
            remaining.discard(pid)
            if not remaining:
                done.set()

        for pid in pids:
            try:
                self.watch(pid, gone)
            except OrreryError:
                remaining.discard(pid)
            else:
                self._lua(self.H.ext_cancel, pid, b"host stopping", round(timeout * 1e9), None)
        if not remaining:
            return
        with trio.move_on_after(timeout):
            await done.wait()
        for pid in list(remaining):
            self._lua(self.H.ext_host_stopped, pid)

    # -- the embedding API ---------------------------------------------------------------

    def watch(self, pid: str, callback: Callable[[str, bytes], None]) -> int:
        """Calls ``callback(pid, encoded_result)`` when ``pid`` ends; raises NotFound if dead."""
        watch_id = next(self._watch_ids)
        self._watches[watch_id] = callback
        try:
            _raise(self._lua(self.H.ext_watch, pid, watch_id))
        except OrreryError:
            del self._watches[watch_id]
            raise
        return watch_id

    def spawn(
        self,
        entry: str,
        host: str,
        args: Sequence[Any] = (),
        *,
        name: str | None = None,
        messages: Sequence[tuple[str, Sequence[Any]]] = (),
        context: dict[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        on_exit: Callable[[str, bytes], None] | None = None,
    ) -> str:
        """Spawns a process and returns its PID; raises OrreryError.

        ``options`` are the spawn options of ``process.with_options`` (``mailbox``
        applies here; workflow start options are ignored on a native host).
        """
        watch_id = None
        if on_exit is not None:
            watch_id = next(self._watch_ids)
            self._watches[watch_id] = on_exit
        opts: dict[str, Any] = {}
        if name is not None:
            opts["name"] = name
        if messages:
            opts["messages"] = [[topic, list(values)] for topic, values in messages]
        if context:
            opts["ctx"] = context
        if options:
            opts["options"] = dict(options)
        try:
            return (
                _text(
                    _raise(
                        self._lua(
                            self.H.ext_spawn,
                            entry,
                            host,
                            encode(list(args)),
                            encode(opts) if opts else None,
                            watch_id,
                        )
                    )
                )
                or ""
            )
        except OrreryError:
            if watch_id is not None:
                self._watches.pop(watch_id, None)
            raise

    async def wait_exit(self, pid: str) -> ExitResult:
        """Waits until ``pid`` ends and returns how it ended."""
        box: list[ExitResult] = []
        done = trio.Event()

        def on_exit(p: str, data: bytes) -> None:
            box.append(result_from(p, data))
            done.set()

        watch_id = self.watch(pid, on_exit)
        try:
            await done.wait()
        finally:
            if not box:
                self._watches.pop(watch_id, None)
                self._lua(self.H.ext_unwatch, pid, watch_id)
        return box[0]

    async def call_encoded(
        self, function: str, args: bytes, context: bytes | None = None
    ) -> ExitResult:
        """Runs a function.lua entry with already-encoded arguments (activities)."""
        box: list[ExitResult] = []
        done = trio.Event()

        def on_exit(p: str, data: bytes) -> None:
            box.append(result_from(p, data))
            done.set()

        watch_id = next(self._watch_ids)
        self._watches[watch_id] = on_exit
        try:
            pid = _raise(self._lua(self.H.ext_call, function, args, context, watch_id))
        except OrreryError:
            self._watches.pop(watch_id, None)
            raise
        try:
            await done.wait()
        finally:
            if not box:
                self._watches.pop(watch_id, None)
                self._lua(self.H.ext_terminate, pid)
        return box[0]

    async def call(
        self, function: str, args: Sequence[Any] = (), context: dict[str, Any] | None = None
    ) -> ExitResult:
        """Runs a function.lua entry as a frame and returns its result."""
        box: list[ExitResult] = []
        done = trio.Event()

        def on_exit(p: str, data: bytes) -> None:
            box.append(result_from(p, data))
            done.set()

        watch_id = next(self._watch_ids)
        self._watches[watch_id] = on_exit
        try:
            pid = _raise(
                self._lua(
                    self.H.ext_call,
                    function,
                    encode(list(args)),
                    encode(context) if context else None,
                    watch_id,
                )
            )
        except OrreryError:
            self._watches.pop(watch_id, None)
            raise
        try:
            await done.wait()
        finally:
            if not box:  # cancelled: do not leave the frame running
                self._watches.pop(watch_id, None)
                self._lua(self.H.ext_terminate, pid)
        return box[0]

    def send(self, dest: str, topic: str, values: Sequence[Any], sender: str | None = None) -> None:
        """Delivers a message to a native process or name; raises NotFound / Invalid."""
        if not isinstance(topic, str) or not topic or topic.startswith("@"):
            raise error_for(
                "Invalid", f"invalid topic {topic!r}: topics are non-empty and do not start with @"
            )
        _raise(self._lua(self.H.ext_send, dest, topic, sender, encode(list(values))))

    def terminate(self, dest: str) -> None:
        """Stops a process at once (its exit error is Canceled "terminated")."""
        _raise(self._lua(self.H.ext_terminate, dest))

    def cancel(
        self, dest: str, reason: str = "", deadline: float | None = None, sender: str | None = None
    ) -> None:
        """Sends a CANCEL event; with ``deadline`` (seconds) the process is terminated after it."""
        ns = None if deadline is None else round(deadline * 1e9)
        _raise(self._lua(self.H.ext_cancel, dest, reason, ns, sender))

    def mailbox_stats(self, pid: str) -> dict[str, Any] | None:
        """Counts of a bounded mailbox, or ``None`` (unbounded or not alive).

        Returns:
            ``{"default": stats, "topics": {topic: stats}}`` where stats is
            ``{"queued", "dropped", "capacity", "blocked"}`` (messages waiting, messages
            dropped so far, the bound, senders waiting for room); ``"default"`` is
            missing when only topics are bounded.
        """
        data = self._lua(self.H.ext_mailbox_stats, pid)
        return decode(data) if data is not None else None

    def lookup(self, name: str) -> str | None:
        """The PID registered under ``name``, or None."""
        return _text(self._lua(self.H.ext_lookup, name))

    def is_alive(self, pid: str) -> bool:
        """Whether ``pid`` is a live native process."""
        return bool(self._lua(self.H.ext_alive, pid))

    def open_mailbox(self) -> Mailbox:
        """A new Python-side PID with a mailbox."""
        mailbox_id = next(self._watch_ids)
        pid = _text(self._lua(self.H.ext_mailbox, mailbox_id)) or ""
        mailbox = Mailbox(self, pid)
        self._mailboxes[mailbox_id] = mailbox
        return mailbox
