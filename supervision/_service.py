"""The supervisor's record of one service, and small helpers of its state machine.

A :class:`Service` is plain mutable state. Only two parties write it: the service's own task
(:meth:`ServiceSupervisor._lifecycle`) and the supervisor's synchronous bookkeeping (requests,
the dispatcher, :meth:`ServiceSupervisor._transition`). Because trio only switches tasks at
checkpoints, every group of writes between two awaits is atomic.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator

import attrs
import trio

from ..runtime._errors import OrreryError
from ._protocol import ServiceInfo, ServiceRun, ServiceSpec, ServiceState

__all__ = [
    "ACTIVE_STATES",
    "LOGGER_NAME",
    "BootProgress",
    "Service",
    "Ticket",
    "format_seconds",
    "interruptible",
    "render_error",
    "run_pid",
    "stop_run",
]

#: The logger every transition is written to (docs/reference/services.md, "Observability").
LOGGER_NAME = "orrery.supervision"

#: States in which a stop request goes through ``stopping`` to ``stopped`` (§2).
ACTIVE_STATES = frozenset({ServiceState.STARTING, ServiceState.RUNNING, ServiceState.FAILED})


def _now() -> float:
    try:
        return trio.current_time()
    except RuntimeError:  # built outside trio.run; boot() sets the real time
        return 0.0


def _set_event() -> trio.Event:
    event = trio.Event()
    event.set()
    return event


@attrs.define(eq=False)
class Ticket:
    """One place in line for the dispatcher: a service waiting to be allowed to start.

    Attributes:
        go: set by the dispatcher when the service may start (state is then ``starting``), or
            by the dependency cascade together with ``aborted``.
        entered: set by the service's task right before it calls ``ServiceRun.start()`` (or
            when it leaves without starting); the dispatcher waits for it before it initiates
            the next start, which keeps start calls in lexicographic order.
        aborted: a dependency will not run; the service was moved to ``given_up``.
    """

    go: trio.Event = attrs.Factory(trio.Event)
    entered: trio.Event = attrs.Factory(trio.Event)
    aborted: bool = False


@attrs.define(eq=False)
class Service:
    """The supervisor's mutable record of one service.

    Invariants:
        * ``active`` is true exactly while a task owns the service; ``idle`` is set otherwise.
        * ``desired`` ("meant to run") implies ``active``; it is cleared by a stop request and
          when the service rests in ``stopped``, ``exited`` or ``given_up``.
        * ``ticket`` is set exactly while the service waits in the dispatcher's line.
        * ``phase`` is the cancel scope of the interruptible wait the task is in (for its
          dependencies, in ``start()``, in ``wait()`` or in a restart delay), else ``None``.
        * ``run`` is the run that may hold resources: set from the start call until the run
          ended or was stopped.
    """

    spec: ServiceSpec
    rng: random.Random
    deps: tuple[Service, ...] = ()
    dependents: list[Service] = attrs.Factory(list)
    state: ServiceState = ServiceState.REGISTERED
    since: float = attrs.Factory(_now)
    failures: int = 0
    restarts: int = 0
    last_error: str | None = None
    run: ServiceRun | None = None
    active: bool = False
    desired: bool = False
    stop_requested: bool = False
    ticket: Ticket | None = None
    phase: trio.CancelScope | None = None
    task_scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
    idle: trio.Event = attrs.Factory(_set_event)
    stop_entered: trio.Event = attrs.Factory(trio.Event)
    changed: trio.Event = attrs.Factory(trio.Event)

    def activate(self) -> None:
        """A task takes ownership: the service is meant to run."""
        self.active = True
        self.desired = True
        self.stop_requested = False
        self.task_scope = trio.CancelScope()
        self.idle = trio.Event()
        self.stop_entered = trio.Event()

    def deactivate(self) -> None:
        """The owning task is gone (or never came)."""
        self.active = False
        self.desired = False
        self.phase = None
        self.stop_entered.set()
        self.idle.set()

    def deps_running(self) -> bool:
        """Whether every dependency is ``running``."""
        return all(dep.state is ServiceState.RUNNING for dep in self.deps)

    def info(self) -> ServiceInfo:
        """A frozen snapshot for the public API."""
        pid = None
        if self.run is not None and self.state in (
            ServiceState.STARTING,
            ServiceState.RUNNING,
            ServiceState.STOPPING,
        ):
            pid = run_pid(self.run)
        return ServiceInfo(
            id=self.spec.id,
            kind=self.spec.kind,
            state=self.state,
            failures=self.failures,
            restarts=self.restarts,
            last_error=self.last_error,
            pid=pid,
            since=self.since,
        )


@attrs.define(eq=False)
class BootProgress:
    """Progress of one boot towards its completion condition.

    See docs/reference/services.md, "Start order and boot".

    Attributes:
        start_set: the IDs of the start set.
        waiting: the IDs that have not yet reached ``running`` (or exited normally, or been
            stopped on request).
        done: set when boot completed, failed, or was cut short by a shutdown.
        failure: the service that failed the boot and its last error.
    """

    start_set: frozenset[str]
    waiting: set[str]
    done: trio.Event = attrs.Factory(trio.Event)
    failure: tuple[str, str | None] | None = None

    def observe(self, svc: Service, new: ServiceState, error: str | None) -> None:
        """Account for ``svc`` entering ``new`` (``error`` is the error of that transition)."""
        if self.done.is_set() or svc.spec.id not in self.start_set:
            return
        if new in (ServiceState.RUNNING, ServiceState.STOPPED) or (
            new is ServiceState.EXITED and error is None
        ):
            self.waiting.discard(svc.spec.id)
            if not self.waiting:
                self.done.set()
        elif new in (ServiceState.GIVEN_UP, ServiceState.EXITED):
            self.failure = (svc.spec.id, svc.last_error)
            self.done.set()


def run_pid(run: ServiceRun) -> str | None:
    """``run.pid``, or ``None`` if the run fails to tell."""
    try:
        return run.pid
    except Exception:
        return None


async def stop_run(svc: Service, run: ServiceRun, grace: float, log: logging.Logger) -> None:
    """Call ``run.stop(stop_timeout)``, guarding against a stop that breaks its contract.

    The call is given ``stop_timeout + grace`` seconds; a ``stop()`` that takes longer is
    abandoned (cancelled) and logged at error level; one that raises is logged as a warning.
    Either way ``svc.run`` is cleared: the supervisor considers the run ended.
    """
    timeout = svc.spec.stop_timeout
    with trio.move_on_after(timeout + grace) as guard:
        try:
            await run.stop(timeout)
        except Exception as exc:
            log.warning("service %s: stop failed: %s", svc.spec.id, render_error(exc))
    if guard.cancelled_caught:
        log.error(
            "service %s: stop did not return within %s; abandoned",
            svc.spec.id,
            format_seconds(timeout + grace),
        )
    svc.run = None


@contextlib.contextmanager
def interruptible(svc: Service) -> Iterator[trio.CancelScope]:
    """A cancel scope that a stop request of ``svc`` cancels (at once if one is pending)."""
    scope = trio.CancelScope()
    if svc.stop_requested:
        scope.cancel()
    svc.phase = scope
    try:
        with scope:
            yield scope
    finally:
        svc.phase = None


def render_error(exc: BaseException) -> str:
    """Render an exception as ``"Kind: message"``, the way errors are shown in service states."""
    if isinstance(exc, OrreryError):
        return f"{exc.kind}: {exc.message}"
    text = str(exc)
    return f"Internal: {type(exc).__name__}: {text}" if text else f"Internal: {type(exc).__name__}"


def format_seconds(seconds: float) -> str:
    """Format a duration the way the logs show it (``0.200s``)."""
    return f"{seconds:.3f}s"
