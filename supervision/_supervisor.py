"""The node supervisor: boot, restart and stop of services.

See docs/reference/services.md, "States", "Escalation", "Observability".

How the work is divided, so that the supervisor never blocks in a sleep (STYLE.md §5):

* Each service that is meant to run has its **own task** (:meth:`ServiceSupervisor._lifecycle`)
  that owns its state machine: wait for its turn, start, run, fail, back off, start again. It
  lives from a start request until the service rests in ``stopped``, ``exited`` or
  ``given_up``.
* One **dispatcher** task decides *when* a service may start: when all its dependencies are
  ``running``. Among the services found ready together it initiates start attempts in
  lexicographic order of ID, and lets each service's task enter ``ServiceRun.start()`` before it
  initiates the next one, so the order of start calls is a pure function of the registry even
  though trio schedules woken tasks in an arbitrary order.
* State changes, the cascade of unavailable dependencies and the boot condition are handled
  synchronously in :meth:`ServiceSupervisor._transition`, so every observer sees a consistent
  picture and ``services()`` never waits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from random import Random

import trio

from ..runtime._errors import InvalidError, NotFound, Unavailable
from ._graph import check_graph, dependency_closure, topological_order
from ._policy import decide_restart
from ._protocol import (
    BootFailed,
    RestartHook,
    RunOutcome,
    ServiceInfo,
    ServiceSpec,
    ServiceState,
)
from ._service import (
    ACTIVE_STATES,
    LOGGER_NAME,
    BootProgress,
    Service,
    Ticket,
    format_seconds,
    interruptible,
    render_error,
    run_pid,
    stop_run,
)

__all__ = ["ServiceSupervisor"]

_S = ServiceState


class ServiceSupervisor:
    """The level-0 supervisor of a node: a flat, dependency-ordered set of services.

    Every service gets one_for_one semantics with its own restart policy
    (docs/reference/services.md, "Escalation").
    The supervisor runs its tasks in the nursery given to :meth:`boot`; call :meth:`shutdown`
    before that nursery closes, or it will wait for services that are still running.

    Args:
        specs: the services, in any order. IDs must be unique and every dependency must be one
            of them; the graph must be acyclic.
        random: the source of restart jitter. Each service draws from its own generator, seeded
            from this one in lexicographic order of ID at construction, so the delays chosen
            for a service do not depend on how failures of other services interleave. Defaults
            to an unseeded generator.
        logger: where transitions are logged; defaults to the ``orrery.supervision`` logger.
        stop_grace: extra seconds given to a :meth:`ServiceRun.stop` beyond its ``timeout``
            before the supervisor stops waiting for it and considers the service stopped (a
            guard against runs that break their contract).

    Raises:
        InvalidError: for duplicate IDs, unknown dependencies or a dependency cycle.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        specs: Sequence[ServiceSpec],
        *,
        random: Random | None = None,
        logger: logging.Logger | None = None,
        stop_grace: float = 5.0,
    ) -> None:
        requires: dict[str, tuple[str, ...]] = {}
        for spec in specs:
            if spec.id in requires:
                raise InvalidError(f"duplicate service {spec.id}")
            requires[spec.id] = spec.requires
        check_graph(requires)
        if not stop_grace >= 0:
            raise ValueError(f"stop_grace must be >= 0, got {stop_grace!r}")
        master = random if random is not None else Random()
        self._log = logger if logger is not None else logging.getLogger(LOGGER_NAME)
        #: Called as ``(service, None, restarts, last_error)`` when a failed service is
        #: started again (the node's tracing sets it).
        self.on_restart: RestartHook | None = None
        self._stop_grace = stop_grace
        self._requires = requires
        # Services in start order: dependencies first, ties broken lexicographically.
        self._order = topological_order(requires)
        by_id = {spec.id: spec for spec in specs}
        self._services: dict[str, Service] = {}
        for sid in sorted(by_id):
            self._services[sid] = Service(spec=by_id[sid], rng=Random(master.getrandbits(64)))
        for svc in self._services.values():
            svc.deps = tuple(self._services[d] for d in sorted(set(svc.spec.requires)))
            for dep in svc.deps:
                dep.dependents.append(svc)
        self._nursery: trio.Nursery | None = None
        self._dispatch_scope = trio.CancelScope()
        self._kick = trio.Event()
        # Services waiting for the dispatcher, by ID, with the ticket they wait on.
        self._pending: dict[str, tuple[Service, Ticket]] = {}
        self._task_ended = trio.Event()
        self._boot: BootProgress | None = None
        self._closed = False
        self._shutdown_done: trio.Event | None = None

    # ------------------------------------------------------------------ public API

    async def boot(self, nursery: trio.Nursery, *, shutdown_timeout: float | None = None) -> None:
        """Start the start set and return when boot completes.

        See docs/reference/services.md, "Start order and boot".

        The start set is every ``auto_start`` service plus, transitively, its dependencies.
        Boot completes when each service of the start set has reached ``running`` at least once
        or has ``exited`` after a normal return (or was stopped through :meth:`stop_service`).

        Args:
            nursery: where the supervisor runs its tasks from now on; it must outlive the
                supervisor's use (until :meth:`shutdown` returns).
            shutdown_timeout: the bound of the shutdown that follows a failed boot; ``None``
                means no bound beyond each service's own ``stop_timeout``.

        Raises:
            BootFailed: a service of the start set reached ``given_up``, or ``exited`` with an
                error, before boot completed; or :meth:`shutdown` was called during boot. All
                services were stopped before this is raised.
            RuntimeError: :meth:`boot` was already called.
        """
        if self._nursery is not None:
            raise RuntimeError("the supervisor was already booted")
        self._nursery = nursery
        now = trio.current_time()
        for svc in self._services.values():
            svc.since = now
        await nursery.start(self._dispatch_loop)
        start_set = dependency_closure(
            (s.spec.id for s in self._services.values() if s.spec.auto_start), self._requires
        )
        boot = BootProgress(start_set=frozenset(start_set), waiting=set(start_set))
        self._boot = boot
        if not start_set:
            boot.done.set()
        for sid in self._order:
            if sid in start_set and not boot.done.is_set():
                self._request_start(self._services[sid], reset=False)
        await boot.done.wait()
        if boot.failure is not None:
            service_id, last_error = boot.failure
            await self.shutdown(math.inf if shutdown_timeout is None else shutdown_timeout)
            raise BootFailed(service_id, last_error)
        if self._closed:
            raise BootFailed(None, None)

    async def start_service(self, service_id: str) -> None:
        """Start a service and, first, its dependencies that are not meant to run.

        Services in ``stopped``, ``exited`` or ``given_up`` begin a new failure series
        (their failure count is reset). A service that is already meant to run (``starting``,
        ``running``, ``failed`` with a restart pending, or waiting for its dependencies) is left
        alone; one that is ``stopping`` is started again once its stop is over.

        This returns once the start is requested, without waiting for it; use
        :meth:`wait_state` to wait for ``running`` (or ``given_up`` / ``exited``).

        Args:
            service_id: the entry ID.

        Raises:
            NotFound: no such service.
            Unavailable: the supervisor has not booted yet or is shut down.
        """
        members = dependency_closure([self._get(service_id).spec.id], self._requires)
        closure = [self._services[sid] for sid in self._order if sid in members]
        await trio.lowlevel.checkpoint()
        while True:
            self._check_open()
            busy = next((s for s in closure if s.active and not s.desired), None)
            if busy is None:
                break
            await busy.idle.wait()
        for member in closure:
            self._request_start(member, reset=True)

    async def stop_service(self, service_id: str) -> None:
        """Stop one service gracefully and return when it is stopped.

        Only that service is stopped: its dependents keep running (they are not stopped first
        and not stopped with it), in line with docs/reference/services.md, "Escalation" (no
        automatic cascade). A
        pending restart is cancelled (``failed -> stopping -> stopped``). A service that was
        only waiting for its dependencies keeps its state. A service that is not meant to run
        is left alone.

        Args:
            service_id: the entry ID.

        Raises:
            NotFound: no such service.
        """
        svc = self._get(service_id)
        if svc.active:
            self._request_stop(svc)
            await svc.idle.wait()
        else:
            await trio.lowlevel.checkpoint()

    def services(self) -> list[ServiceInfo]:
        """A snapshot of every service, sorted by ID. Never blocks."""
        return [svc.info() for svc in self._services.values()]

    def service(self, service_id: str) -> ServiceInfo:
        """A snapshot of one service.

        Args:
            service_id: the entry ID.

        Raises:
            NotFound: no such service.
        """
        return self._get(service_id).info()

    async def wait_state(self, service_id: str, *states: ServiceState | str) -> ServiceState:
        """Return when the service is observed in one of ``states``.

        A state the service passes through without a checkpoint in between may be missed.

        Args:
            service_id: the entry ID.
            *states: the states to wait for (members or their spelling), at least one.

        Returns:
            The state the service is in.

        Raises:
            NotFound: no such service.
            ValueError: no state, or an unknown state name.
        """
        svc = self._get(service_id)
        wanted = {ServiceState(s) for s in states}
        if not wanted:
            raise ValueError("wait_state needs at least one state")
        await trio.lowlevel.checkpoint()
        while svc.state not in wanted:
            await svc.changed.wait()
        return svc.state

    async def shutdown(self, timeout: float) -> None:
        """Stop every service that is meant to run, dependents first, within ``timeout``.

        ``running``, ``starting`` and ``failed`` services are stopped in reverse dependency
        order: a service is stopped once none of its dependents is still active; independent
        services are stopped concurrently, their stops initiated in reverse lexicographic order
        of ID (docs/reference/services.md, "Stopping"). Pending restarts are cancelled, and
        services only waiting
        for their dependencies are dropped without a state change. When ``timeout`` expires,
        the stops still in progress are cancelled and those services are marked ``stopped``
        (logged as a warning). Calling it again waits for the first call (at most ``timeout``).

        Args:
            timeout: the bound in seconds (``math.inf`` for none).

        Raises:
            ValueError: a negative or NaN timeout.
        """
        if not timeout >= 0:
            raise ValueError(f"timeout must be >= 0, got {timeout!r}")
        if self._shutdown_done is not None:
            with trio.move_on_after(timeout):
                await self._shutdown_done.wait()
            return
        self._closed = True
        done = self._shutdown_done = trio.Event()
        try:
            self._dispatch_scope.cancel()
            if self._boot is not None and not self._boot.done.is_set():
                self._boot.done.set()
            with trio.move_on_after(timeout) as deadline:
                await self._stop_in_order()
            if deadline.cancelled_caught:
                self._force_remaining()
        finally:
            done.set()

    # ------------------------------------------------------------------ requests

    def _get(self, service_id: str) -> Service:
        try:
            return self._services[service_id]
        except KeyError:
            raise NotFound(f"no service {service_id}") from None

    def _check_open(self) -> None:
        if self._nursery is None:
            raise Unavailable("the supervisor has not booted yet")
        if self._closed:
            raise Unavailable("the supervisor is shut down")

    def _request_start(self, svc: Service, *, reset: bool) -> None:
        """Make ``svc`` meant to run and give it a task, unless it already has one."""
        if svc.active:
            return
        assert self._nursery is not None
        svc.activate()
        if reset and svc.state in (_S.STOPPED, _S.EXITED, _S.GIVEN_UP):
            svc.failures = 0
        ticket = self._enqueue(svc)
        if ticket is None:  # a dependency is not available: given up at once
            svc.deactivate()
            return
        self._nursery.start_soon(self._service_task, svc, ticket, name=f"service {svc.spec.id}")

    def _request_stop(self, svc: Service) -> bool:
        """Ask the task of ``svc`` to stop; ``True`` if it will reach its stop path promptly."""
        if not svc.active or svc.stop_requested:
            return False
        svc.desired = False
        svc.stop_requested = True
        if svc.ticket is not None:  # leave the dispatcher's line (its task sees the request)
            self._pending.pop(svc.spec.id, None)
            svc.ticket = None
        if svc.phase is not None:
            svc.phase.cancel()
            return True
        return False

    def _unavailable(self, dep: Service) -> bool:
        return dep.state in (_S.GIVEN_UP, _S.EXITED) and not dep.desired

    def _enqueue(self, svc: Service) -> Ticket | None:
        """Put ``svc`` in line for the dispatcher, or give it up if a dependency never will run."""
        for dep in svc.deps:
            if self._unavailable(dep):
                self._give_up_for(svc, dep)
                return None
        ticket = Ticket()
        svc.ticket = ticket
        self._pending[svc.spec.id] = (svc, ticket)
        self._kick.set()
        return ticket

    def _give_up_for(self, svc: Service, dep: Service) -> None:
        """``svc`` has not started and ``dep`` will not run: cascade ``given_up`` (§3.2, §8)."""
        work = [(svc, dep)]
        while work:
            victim, cause = work.pop()
            if victim.ticket is not None:
                self._pending.pop(victim.spec.id, None)
                victim.ticket.aborted = True
                victim.ticket.go.set()  # wakes its task, which then ends
                victim.ticket = None
            victim.desired = False
            error = f"dependency {cause.spec.id} is not available"
            self._transition(victim, _S.GIVEN_UP, f": {error}", error=error, cascade=False)
            work.extend((d, victim) for d in reversed(victim.dependents) if d.ticket is not None)

    # ------------------------------------------------------------------ transitions

    def _transition(
        self,
        svc: Service,
        new: ServiceState,
        detail: str = "",
        *,
        error: str | None = None,
        level: int | None = None,
        cascade: bool = True,
    ) -> None:
        """Enter ``new``; log it; wake waiters; apply dependency and boot rules synchronously."""
        old = svc.state
        svc.state = new
        svc.since = trio.current_time()
        if error is not None:
            svc.last_error = error
        changed, svc.changed = svc.changed, trio.Event()
        changed.set()
        if level is None:
            level = {_S.FAILED: logging.WARNING, _S.GIVEN_UP: logging.ERROR}.get(new, logging.INFO)
        self._log.log(level, "service %s: %s -> %s%s", svc.spec.id, old, new, detail)
        if new is _S.RUNNING and self._pending:
            self._kick.set()
        if self._boot is not None:
            self._boot.observe(svc, new, error)
        # After the boot rule, so that a boot failure names the cause, not a dependent.
        if new in (_S.GIVEN_UP, _S.EXITED) and cascade and not svc.desired:
            for dependent in list(svc.dependents):
                if dependent.ticket is not None:
                    self._give_up_for(dependent, svc)

    def _rest(
        self,
        svc: Service,
        new: ServiceState,
        detail: str = "",
        *,
        error: str | None = None,
        level: int | None = None,
    ) -> None:
        """Enter a state in which the service is no longer meant to run."""
        svc.desired = False
        svc.run = None
        self._transition(svc, new, detail, error=error, level=level)

    # ------------------------------------------------------------------ tasks

    async def _dispatch_loop(self, *, task_status: trio.TaskStatus[None]) -> None:
        """Initiate start attempts of ready services, in lexicographic order of ID (§3.2)."""
        with self._dispatch_scope:
            task_status.started()
            while True:
                await self._kick.wait()
                self._kick = trio.Event()
                ready = sorted(
                    (entry for entry in self._pending.values() if entry[0].deps_running()),
                    key=lambda entry: entry[0].spec.id,
                )
                for svc, ticket in ready:
                    # Things may have changed while an earlier service entered its start.
                    if svc.ticket is not ticket or not svc.deps_running():
                        continue
                    del self._pending[svc.spec.id]
                    svc.ticket = None
                    if svc.state is _S.FAILED:
                        svc.restarts += 1
                        if self.on_restart is not None:
                            self.on_restart(svc.spec.id, None, svc.restarts, svc.last_error)
                    self._transition(svc, _S.STARTING, f" (attempt {svc.failures + 1})")
                    ticket.go.set()
                    await ticket.entered.wait()

    async def _service_task(self, svc: Service, ticket: Ticket) -> None:
        """The task that owns ``svc`` while it is meant to run (and while it stops)."""
        try:
            with svc.task_scope:
                await self._lifecycle(svc, ticket)
        finally:
            if svc.ticket is not None:
                self._pending.pop(svc.spec.id, None)
                svc.ticket = None
            svc.deactivate()
            ended, self._task_ended = self._task_ended, trio.Event()
            ended.set()

    async def _lifecycle(self, svc: Service, ticket: Ticket) -> None:
        """Wait for the dispatcher, start, run, fail and back off until the service rests."""
        spec = svc.spec
        while True:
            # 1. Wait for the dispatcher: all dependencies running, our turn in the order.
            run = None
            error: str | None = None
            try:
                with interruptible(svc):
                    await ticket.go.wait()
                if ticket.aborted:  # given up because of a dependency; already logged
                    return
                if svc.stop_requested:
                    await self._stop_path(svc)
                    return
                try:
                    run = spec.factory()
                except Exception as exc:
                    error = render_error(exc)
            finally:
                # The dispatcher initiates the next start only once this one has begun.
                ticket.entered.set()

            # 2. The start attempt (a failed start is a run of length 0).
            run_length: float | None = None
            if run is not None:
                svc.run = run
                with interruptible(svc), trio.move_on_after(spec.start_timeout) as limit:
                    try:
                        await run.start()
                    except Exception as exc:
                        error = render_error(exc)
                        svc.run = None
                if not svc.stop_requested and limit.cancelled_caught:
                    limit_text = format_seconds(spec.start_timeout)
                    error = f"Timeout: start did not complete within {limit_text}"
                    await stop_run(svc, run, self._stop_grace, self._log)  # tear down the attempt
                if svc.stop_requested:
                    await self._stop_path(svc)
                    return

            # 3. Running, until the run ends on its own.
            if error is None:
                assert run is not None
                pid = run_pid(run)
                self._transition(svc, _S.RUNNING, f" (pid {pid})" if pid else "")
                running_since = trio.current_time()
                outcome: RunOutcome | None = None
                with interruptible(svc):
                    try:
                        outcome = await run.wait()
                    except Exception as exc:
                        outcome = RunOutcome(restartable=True, error=render_error(exc))
                if outcome is not None:
                    svc.run = None
                if svc.stop_requested:  # any exit while stopping -> stopped
                    await self._stop_path(svc)
                    return
                assert outcome is not None
                if not outcome.restartable:
                    if outcome.error is None:
                        self._rest(svc, _S.EXITED, " (normal exit)")
                    else:
                        detail = f": {outcome.error} (not retryable)"
                        self._rest(
                            svc, _S.EXITED, detail, error=outcome.error, level=logging.WARNING
                        )
                    return
                error = outcome.error
                run_length = trio.current_time() - running_since

            # 4. The restart algorithm of §5.2.
            decision = decide_restart(
                spec.restart,
                failures=svc.failures,
                run_length=run_length,
                stable_threshold=spec.stable_threshold,
                rng=svc.rng,
            )
            svc.failures = decision.failures
            shown = error if error is not None else "ended without an error"
            if decision.give_up:
                self._rest(
                    svc,
                    _S.GIVEN_UP,
                    f" (attempt {decision.failures} of {spec.restart.max_attempts}): {shown};"
                    " giving up",
                    error=error,
                )
                return
            assert decision.delay is not None
            self._transition(
                svc,
                _S.FAILED,
                f" (attempt {decision.failures}): {shown}; restart in"
                f" {format_seconds(decision.delay)} (attempt {decision.next_attempt})",
                error=error,
            )
            with interruptible(svc):
                await trio.sleep(decision.delay)
            if svc.stop_requested:
                await self._stop_path(svc)
                return
            next_ticket = self._enqueue(svc)
            if next_ticket is None:  # a dependency gave up meanwhile
                return
            ticket = next_ticket

    async def _stop_path(self, svc: Service) -> None:
        """End the lifecycle on a stop request (docs/reference/services.md, "Stopping")."""
        svc.stop_entered.set()
        if svc.state not in ACTIVE_STATES:
            return  # it never started in this activation: nothing to stop, state unchanged
        self._transition(svc, _S.STOPPING)
        if svc.run is not None:
            await stop_run(svc, svc.run, self._stop_grace, self._log)
        self._rest(svc, _S.STOPPED)

    # ------------------------------------------------------------------ shutdown

    async def _stop_in_order(self) -> None:
        """Stop every active service, dependents first, initiating in reverse ID order."""
        remaining: dict[str, Service] = {}
        while True:
            for svc in self._services.values():
                if svc.active and not svc.stop_requested:
                    remaining[svc.spec.id] = svc
            if not remaining:
                break
            ready = [svc for svc in remaining.values() if not any(d.active for d in svc.dependents)]
            if not ready:
                await self._task_ended.wait()
                continue
            for svc in sorted(ready, key=lambda s: s.spec.id, reverse=True):
                del remaining[svc.spec.id]
                if self._request_stop(svc):
                    # Let it call ServiceRun.stop() before the next stop is initiated.
                    await svc.stop_entered.wait()
        for svc in self._services.values():
            if svc.active:
                await svc.idle.wait()

    def _force_remaining(self) -> None:
        """The shutdown deadline passed: cancel what is left and record it as stopped."""
        for sid in sorted(self._services, reverse=True):
            svc = self._services[sid]
            if not svc.active:
                continue
            svc.desired = False
            svc.stop_requested = True
            svc.task_scope.cancel()
            if svc.state in ACTIVE_STATES or svc.state is _S.STOPPING:
                self._rest(
                    svc,
                    _S.STOPPED,
                    " (stop abandoned at the shutdown deadline)",
                    level=logging.WARNING,
                )
