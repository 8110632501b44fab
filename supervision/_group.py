"""A supervision group: OTP strategies, restart types and restart intensity (docs/supervision.md).

A :class:`GroupRun` is one run of a ``process.supervisor``: it starts its children in order,
restarts them according to the group's :class:`Strategy` and each child's
:class:`RestartType`, and fails when more than ``intensity`` restarts happened within
``period``. It is a :class:`~orrery.supervision.ServiceRun`, so the node supervisor drives it like
any other service and applies the group's own ``lifecycle.restart`` backoff when it fails; a
nested group is a child of its parent group, which treats its failure like any child's failure.

The group knows nothing about the registry or the native host. Process children are started
through a :class:`ProcessStarter` (the node implements it with its ``NativeRuntime``), nested
groups are :class:`GroupRun` objects of their own.

How the work is divided, so that the group stays responsive (STYLE.md §5):

* exits are *events*: a process child's exit callback, or the task watching a nested group,
  only records the outcome and queues it; nothing is decided inside a callback;
* :meth:`GroupRun.wait` is the group's loop: it takes one queued exit at a time, with a
  checkpoint before each, decides (restart type, intensity, strategy) and acts. Restarts are
  immediate; a child that fails to start is queued as a failed exit again, so a restart that
  keeps failing goes through the queue (and the intensity count) instead of looping;
* stopping a child (CANCEL, wait at most its ``shutdown``, then terminate) is the only thing
  the loop waits for. A stop request of the node cancels :meth:`GroupRun.wait` wherever it is,
  and :meth:`GroupRun.stop` finishes from the recorded state.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections import deque

import attrs
import trio

from ..runtime._durations import format_duration
from ..runtime._errors import error_for
from ._group_spec import (
    ChildInfo,
    ChildState,
    GroupChild,
    GroupInfo,
    GroupSpec,
    ProcessStarter,
    RestartType,
    Strategy,
    blank_info,
)
from ._protocol import RestartHook, RunOutcome
from ._service import LOGGER_NAME, render_error

__all__ = ["TERMINATE_GRACE", "GroupRun"]

#: Seconds a child is given to report its exit after it was terminated.
TERMINATE_GRACE = 1.0


@attrs.define(eq=False)
class _Incarnation:
    """One start of one child.

    Invariants: ``outcome`` is set once, when the incarnation ended (on its own, stopped or
    failed to start), and ``done`` is set with it. ``stopping`` means the group is ending it, so
    its exit is not a reason to restart anything. ``watcher`` and ``watched`` exist while a task
    waits in a nested group's ``wait()``.
    """

    child: _Child
    pid: str | None = None
    run: GroupRun | None = None
    outcome: RunOutcome | None = None
    done: trio.Event = attrs.Factory(trio.Event)
    stopping: bool = False
    kill_at: float | None = None
    watcher: trio.CancelScope | None = None
    watched: trio.Event | None = None


@attrs.define(eq=False)
class _Child:
    spec: GroupChild
    index: int
    state: ChildState = ChildState.REGISTERED
    current: _Incarnation | None = None
    starts: int = 0
    last_error: str | None = None
    final_error: str | None = None  # a transient child's non-retryable error
    last_run: GroupRun | None = None  # the latest nested group, for snapshots

    def info(self) -> ChildInfo:
        inc = self.current
        nested = None
        if self.spec.supervisor is not None:
            nested = (
                self.last_run.info()
                if self.last_run is not None
                else blank_info(self.spec.supervisor)
            )
        return ChildInfo(
            id=self.spec.id,
            kind="process" if self.spec.process is not None else "supervisor",
            state=self.state,
            pid=inc.pid if inc is not None and inc.outcome is None else None,
            restarts=max(0, self.starts - 1),
            last_error=self.last_error,
            supervisor=nested,
        )


def _settle(inc: _Incarnation, outcome: RunOutcome) -> bool:
    """Record the end of ``inc`` once; ``False`` if it had already ended."""
    if inc.outcome is not None:
        return False
    inc.outcome = outcome
    inc.done.set()
    return True


def _error_parts(error: str) -> tuple[str, str]:
    kind, sep, message = error.partition(": ")
    return (kind, message) if sep else ("Internal", error)


class GroupRun:
    """One run of a group (a :class:`~orrery.supervision.ServiceRun`).

    ``start()`` starts the children in order; ``wait()`` supervises them and returns when the
    group ends on its own; ``stop()`` stops the children in reverse order. A new run (the
    group's restart) starts from scratch: fresh children, an empty restart window.

    How the run ends on its own (the outcome of :meth:`wait`):

    * more than ``intensity`` restarts within ``period``: every child is stopped (reverse
      order, each with its ``shutdown``) and the run fails with the restartable error
      ``Unavailable: supervisor <id> reached its restart intensity (<intensity> in <period>)``;
    * no child is left running or due to start, because each one's restart type said not to
      restart it: the run ends normally, or, if a transient child ended with a non-retryable
      error, with that error (not restartable).

    Args:
        spec: the group.
        starter: starts, cancels and terminates process children.
        logger: where child starts, exits and restarts are logged (``orrery.supervision``).
        on_restart: called as ``(group, child, restarts, last_error)`` when a child is
            started again, in nested groups too (the node's tracing sets it).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        spec: GroupSpec,
        starter: ProcessStarter,
        *,
        logger: logging.Logger | None = None,
        on_restart: RestartHook | None = None,
    ) -> None:
        self.spec = spec
        self._starter = starter
        self._on_restart = on_restart
        self._log = logger if logger is not None else logging.getLogger(LOGGER_NAME)
        self._children = [_Child(spec=c, index=i) for i, c in enumerate(spec.children)]
        self._queue: deque[_Incarnation] = deque()
        self._wake = trio.Event()
        self._window: deque[float] = deque()
        self._nursery: trio.Nursery | None = None
        self._state = "registered"

    # ------------------------------------------------------------------ ServiceRun

    @property
    def pid(self) -> str | None:
        """Always ``None``: a group is not a process."""
        return None

    async def start(self) -> None:
        """Start every child in order; return when all started.

        A process child has started when it has a PID; a nested group when its own ``start()``
        returned. If a child cannot start, the children started so far are stopped in reverse
        order and the error is raised (kind of the child's error, message naming the group and
        the child).
        """
        self._state = "starting"
        for child in self._children:
            error = await self._start_child(child)
            if error is not None:
                await self._stop_all("supervisor failed to start", math.inf)
                child.state = ChildState.EXITED
                self._state = "exited"
                kind, message = _error_parts(error)
                raise error_for(
                    kind,
                    f"supervisor {self.spec.id}: child {child.spec.id} failed to start: {message}",
                )
        self._state = "running"

    async def wait(self) -> RunOutcome:
        """Supervise the children; return when the group ends on its own (see the class)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                for child in self._children:
                    inc = child.current
                    if inc is not None and inc.run is not None and inc.outcome is None:
                        self._watch(inc)
                outcome = await self._serve()
            finally:
                self._nursery = None
            nursery.cancel_scope.cancel()
        self._state = "exited"
        return outcome

    async def stop(self, timeout: float) -> None:
        """Stop every child in reverse order, each within its ``shutdown``, all within ``timeout``.

        Each process child gets a CANCEL (reason ``supervisor stopping``) and at most its
        ``shutdown`` seconds, then it is terminated; when ``timeout`` is over, the children
        not stopped yet are terminated at once. Exits seen while stopping are not restarted.
        """
        self._state = "stopping"
        await self._stop_all("supervisor stopping", trio.current_time() + timeout)
        self._state = "stopped"

    # ------------------------------------------------------------------ snapshots

    def info(self) -> GroupInfo:
        """A snapshot of the group and its children. Never blocks."""
        recent = 0
        if self._window:
            threshold = trio.current_time() - self.spec.period
            recent = sum(1 for t in self._window if t >= threshold)
        return GroupInfo(
            id=self.spec.id,
            state=self._state,
            strategy=self.spec.strategy,
            recent_restarts=recent,
            children=tuple(child.info() for child in self._children),
        )

    # ------------------------------------------------------------------ starting

    def _exited(self, inc: _Incarnation, outcome: RunOutcome) -> None:
        """Record how an incarnation ended and queue it for the loop (callbacks end here)."""
        if _settle(inc, outcome):
            self._queue.append(inc)
            self._wake.set()

    async def _start_child(self, child: _Child) -> str | None:
        """Start one child; return the rendered error if it could not start."""
        spec = child.spec
        child.state = ChildState.STARTING
        child.starts += 1
        inc = _Incarnation(child)
        child.current = inc
        try:
            if spec.process is not None:
                inc.pid = self._starter.spawn(spec.process, functools.partial(self._exited, inc))
            else:
                assert spec.supervisor is not None
                inc.run = child.last_run = GroupRun(
                    spec.supervisor, self._starter, logger=self._log, on_restart=self._on_restart
                )
                await inc.run.start()
        except Exception as exc:
            error = render_error(exc)
            inc.outcome = RunOutcome(restartable=True, error=error)
            inc.done.set()
            child.current = None
            child.last_error = error
            self._log.warning(
                "supervisor %s: child %s failed to start: %s", self.spec.id, spec.id, error
            )
            return error
        if inc.outcome is None:
            child.state = ChildState.RUNNING
        what = f"pid {inc.pid}" if spec.supervisor is None else f"supervisor {spec.supervisor.id}"
        if child.starts > 1:
            if self._on_restart is not None:
                self._on_restart(self.spec.id, spec.id, child.starts - 1, child.last_error)
            self._log.info(
                "supervisor %s: child %s restarted (%s, restart %d)",
                self.spec.id,
                spec.id,
                what,
                child.starts - 1,
            )
        else:
            self._log.info("supervisor %s: child %s started (%s)", self.spec.id, spec.id, what)
        if inc.run is not None and self._nursery is not None:
            self._watch(inc)
        return None

    def _watch(self, inc: _Incarnation) -> None:
        assert self._nursery is not None
        inc.watcher = trio.CancelScope()
        inc.watched = trio.Event()
        self._nursery.start_soon(self._watch_task, inc)

    async def _watch_task(self, inc: _Incarnation) -> None:
        """Drive a nested group's ``wait()`` and queue its outcome."""
        assert inc.run is not None and inc.watcher is not None and inc.watched is not None
        try:
            with inc.watcher:
                try:
                    outcome = await inc.run.wait()
                except Exception as exc:
                    outcome = RunOutcome(restartable=True, error=render_error(exc))
                self._exited(inc, outcome)
        finally:
            inc.watched.set()

    # ------------------------------------------------------------------ the loop

    async def _serve(self) -> RunOutcome:
        """Handle queued exits one at a time until the group ends on its own."""
        while True:
            while not self._queue:
                ended = self._ended()
                if ended is not None:
                    return ended
                self._wake = trio.Event()
                await self._wake.wait()
            # A checkpoint per exit: a crash storm never starves the rest of the node.
            await trio.lowlevel.checkpoint()
            inc = self._queue.popleft()
            child = inc.child
            if inc is not child.current or inc.stopping:
                continue  # stale (a restart replaced it) or ended by a stop
            failed = await self._handle_exit(child, inc)
            if failed is not None:
                return failed

    def _ended(self) -> RunOutcome | None:
        """The group's outcome if no child runs or is due to start, else ``None``."""
        for child in self._children:
            if child.state in (ChildState.STARTING, ChildState.RUNNING, ChildState.STOPPING):
                return None
        for child in self._children:
            if child.final_error is not None:
                kind, message = _error_parts(child.final_error)
                return RunOutcome(
                    restartable=False, error=f"{kind}: child {child.spec.id}: {message}"
                )
        self._log.info("supervisor %s: no child is left running; exiting", self.spec.id)
        return RunOutcome(restartable=False, error=None)

    async def _handle_exit(self, child: _Child, inc: _Incarnation) -> RunOutcome | None:
        """Apply the restart type, the intensity and the strategy to one exit."""
        outcome = inc.outcome
        assert outcome is not None
        child.current = None
        spec = child.spec
        shown = outcome.error if outcome.error is not None else "normal exit"
        if outcome.error is not None:
            child.last_error = outcome.error
        restart = spec.restart is RestartType.PERMANENT or (
            spec.restart is RestartType.TRANSIENT and outcome.restartable
        )
        if not restart:
            child.state = ChildState.EXITED
            if spec.restart is RestartType.TRANSIENT and outcome.error is not None:
                child.final_error = outcome.error
            if outcome.error is not None and not outcome.restartable:
                shown += " (not retryable)"
            self._log.log(
                logging.WARNING if outcome.error is not None else logging.INFO,
                "supervisor %s: child %s exited: %s; not restarted (%s)",
                self.spec.id,
                spec.id,
                shown,
                spec.restart,
            )
            return None
        child.state = ChildState.STARTING
        if self._add_restart():
            return await self._give_up(child, shown)
        self._log.warning(
            "supervisor %s: child %s exited: %s; %s restart (%d of at most %d in %s)",
            self.spec.id,
            spec.id,
            shown,
            self.spec.strategy,
            len(self._window),
            self.spec.intensity,
            format_duration(self.spec.period),
        )
        await self._restart(child)
        return None

    def _add_restart(self) -> bool:
        """Record a restart now; ``True`` when the intensity is exceeded (OTP's add_restart).

        Restarts older than ``period`` are forgotten; one exactly ``period`` ago still counts.
        """
        now = trio.current_time()
        threshold = now - self.spec.period
        window = self._window
        while window and window[0] < threshold:
            window.popleft()
        window.append(now)
        return len(window) > self.spec.intensity

    async def _restart(self, failed: _Child) -> None:
        """Apply the strategy for ``failed`` (already ended and in ``starting``)."""
        strategy = self.spec.strategy
        if strategy is Strategy.ONE_FOR_ONE:
            affected = [failed]
        elif strategy is Strategy.ONE_FOR_ALL:
            affected = list(self._children)
        else:
            affected = self._children[failed.index :]
        others = [c for c in affected if c is not failed]
        # Stop the others, last first; a temporary one stays down.
        for child in reversed(others):
            await self._stop_child(child, f"restarting ({strategy} after {failed.spec.id})")
        for child in others:
            if child.spec.restart is RestartType.TEMPORARY:
                if child.state is not ChildState.EXITED:
                    child.state = ChildState.STOPPED
            else:
                child.state = ChildState.STARTING
        # Start in order; a failed start is queued as a failed exit of that child.
        for child in affected:
            if child.state is not ChildState.STARTING:
                continue
            error = await self._start_child(child)
            if error is not None:
                inc = _Incarnation(child, outcome=RunOutcome(restartable=True, error=error))
                inc.done.set()
                child.current = inc
                self._queue.append(inc)
                break

    async def _give_up(self, child: _Child, shown: str) -> RunOutcome:
        """The intensity is exceeded: stop every child and fail the run."""
        spec = self.spec
        limit = f"{spec.intensity} in {format_duration(spec.period)}"
        self._log.error(
            "supervisor %s: child %s exited: %s; reached its restart intensity (%s); "
            "stopping every child",
            spec.id,
            child.spec.id,
            shown,
            limit,
        )
        child.state = ChildState.EXITED
        self._state = "stopping"
        await self._stop_all("supervisor failing", math.inf)
        return RunOutcome(
            restartable=True,
            error=f"Unavailable: supervisor {spec.id} reached its restart intensity ({limit})",
        )

    # ------------------------------------------------------------------ stopping

    async def _stop_all(self, reason: str, deadline: float) -> None:
        """Stop every child in reverse order; those not restarted later end ``stopped``."""
        for child in reversed(self._children):
            await self._stop_child(child, reason, deadline)
            if child.state in (ChildState.STARTING, ChildState.RUNNING, ChildState.STOPPING):
                child.state = ChildState.STOPPED

    async def _stop_child(self, child: _Child, reason: str, deadline: float = math.inf) -> None:
        """End the current incarnation of ``child``: CANCEL, at most ``shutdown``, terminate.

        ``deadline`` (trio time) bounds the whole stop. Safe to call again for an incarnation
        whose stop was interrupted: it resumes with the deadline chosen the first time.
        """
        inc = child.current
        if inc is None:
            return
        inc.stopping = True
        if inc.outcome is not None:  # ended on its own before its exit was handled
            child.current = None
            if inc.outcome.error is not None:
                child.last_error = inc.outcome.error
            return
        child.state = ChildState.STOPPING
        now = trio.current_time()
        first = inc.kill_at is None
        if inc.kill_at is None:
            inc.kill_at = now + child.spec.shutdown
        kill_at = inc.kill_at = min(inc.kill_at, deadline)
        if inc.run is not None:
            await self._stop_nested(child, inc, max(0.0, kill_at - now))
        else:
            await self._stop_process(child, inc, reason, kill_at, first)
        child.current = None
        outcome = inc.outcome
        shown = f": {outcome.error}" if outcome is not None and outcome.error else ""
        self._log.info("supervisor %s: child %s stopped%s", self.spec.id, child.spec.id, shown)

    async def _stop_process(
        self, child: _Child, inc: _Incarnation, reason: str, kill_at: float, first: bool
    ) -> None:
        assert inc.pid is not None
        budget = kill_at - trio.current_time()
        if first and budget > 0:
            with contextlib.suppress(Exception):  # already gone: its exit is on its way
                self._starter.cancel(inc.pid, reason, budget)
        with trio.move_on_at(kill_at):
            await inc.done.wait()
        if inc.done.is_set():
            return
        if budget > 0:
            self._log.warning(
                "supervisor %s: child %s did not stop within %s; terminating",
                self.spec.id,
                child.spec.id,
                format_duration(child.spec.shutdown),
            )
        with contextlib.suppress(Exception):
            self._starter.terminate(inc.pid)
        with trio.move_on_after(TERMINATE_GRACE):
            await inc.done.wait()
        if not inc.done.is_set():
            self._log.error(
                "supervisor %s: child %s (pid %s) did not end when terminated; abandoned",
                self.spec.id,
                child.spec.id,
                inc.pid,
            )
            _settle(inc, RunOutcome(restartable=True, error="Canceled: abandoned"))

    async def _stop_nested(self, child: _Child, inc: _Incarnation, budget: float) -> None:
        assert inc.run is not None
        if inc.watcher is not None and inc.watched is not None:
            inc.watcher.cancel()  # the protocol: stop() only after wait() was cancelled
            await inc.watched.wait()
        if inc.outcome is not None:
            return
        with trio.move_on_after(budget + TERMINATE_GRACE) as guard:
            try:
                await inc.run.stop(budget)
            except Exception as exc:
                self._log.warning(
                    "supervisor %s: child %s: stop failed: %s",
                    self.spec.id,
                    child.spec.id,
                    render_error(exc),
                )
        if guard.cancelled_caught:
            self._log.error(
                "supervisor %s: child %s did not stop within %s; abandoned",
                self.spec.id,
                child.spec.id,
                format_duration(budget + TERMINATE_GRACE),
            )
        _settle(inc, RunOutcome(restartable=True, error=None))
