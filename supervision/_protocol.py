"""The contract between the node supervisor and the services it drives.

The supervisor never knows what a service is. The node describes each service with a
:class:`ServiceSpec` whose ``factory`` makes one :class:`ServiceRun` per start attempt; the
supervisor only calls ``start``, ``wait`` and ``stop`` on it and reads ``pid``. Everything the
supervisor reports back is plain data (:class:`ServiceInfo`, :class:`ServiceState`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from typing import Protocol

import attrs

from ..runtime._errors import UNAVAILABLE, OrreryError
from ._policy import RestartPolicy

__all__ = [
    "BootFailed",
    "RunOutcome",
    "ServiceInfo",
    "ServiceRun",
    "ServiceSpec",
    "ServiceState",
]


class ServiceState(enum.StrEnum):
    """The states of a supervised service (docs/reference/services.md, "States").

    Members compare equal to their spelling (``ServiceState.RUNNING == "running"``).

    .. versionadded:: 0.1.0
    """

    REGISTERED = "registered"
    """Known to the supervisor, never started."""
    STARTING = "starting"
    """A start attempt is in progress."""
    RUNNING = "running"
    """Started and healthy."""
    FAILED = "failed"
    """The last run or start attempt failed; a restart is scheduled."""
    GIVEN_UP = "given_up"
    """Failed ``max_attempts`` times in one series, or a dependency is not available."""
    STOPPING = "stopping"
    """Graceful stop in progress."""
    STOPPED = "stopped"
    """Stopped on request."""
    EXITED = "exited"
    """Ended in a way that must not be retried; stays down."""


@attrs.frozen
class RunOutcome:
    """How a running service ended on its own (the result of :meth:`ServiceRun.wait`).

    Attributes:
        restartable: ``False`` for a normal return or an error with ``retryable == false``
            (docs/reference/services.md, "Failure classification"); ``True`` for every other
            failure. For kinds other than
            ``process.service`` the node always passes ``True`` for a failure.
        error: the rendered last error (``"Internal: boom"``); ``None`` for a normal exit.

    .. versionadded:: 0.1.0
    """

    restartable: bool
    error: str | None


class ServiceRun(Protocol):
    """One run of a service, created by the node (``ServiceSpec.factory``) for each start attempt.

    The supervisor calls, in this order: ``start()`` once; then, if it returned, ``wait()`` once;
    and ``stop()`` at most once, in these cases:

    * a stop was requested while ``start()`` or ``wait()`` was in progress (the pending call is
      cancelled first);
    * ``start()`` was abandoned after ``start_timeout`` (it was cancelled): ``stop()`` then tears
      down whatever the attempt created, so it must also work on a half-started run.

    ``stop()`` is not called after ``start()`` raised (the run must clean up after itself before
    raising) nor after ``wait()`` returned.

    .. versionadded:: 0.1.0
    """

    async def start(self) -> None:
        """Return when the service is running; raise an exception on a failed start."""
        ...

    async def wait(self) -> RunOutcome:
        """Return when the running service ended on its own."""
        ...

    async def stop(self, timeout: float) -> None:
        """Stop gracefully; end the run within ``timeout`` seconds plus teardown.

        After it returns the run has ended. The supervisor guards against a ``stop()`` that
        breaks this contract (it gives up on it after ``timeout`` plus a grace period), but a run
        that needs that guard is a bug.
        """
        ...

    @property
    def pid(self) -> str | None:
        """The current process PID for ``process.service``, else ``None``."""
        ...


def _positive(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{attribute.name} must be a finite number > 0, got {value!r}")


def _non_negative(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def _non_empty(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    # `converter=tuple` itself leaves mypy's attrs plugin with an unsolved type variable
    return tuple(items)


@attrs.frozen
class ServiceSpec:
    """Everything the supervisor needs to know about one service (an entry with ``lifecycle``).

    Durations are in seconds.

    Attributes:
        id: the entry ID (``ns:name``).
        kind: the entry kind (``process.host``, ``process.service``, ``temporal.client``,
            ``temporal.worker``, ...). Informational: the supervisor treats all kinds alike.
        auto_start: whether the service is in the boot start set.
        requires: every dependency, including implicit ones, as full entry IDs.
        start_timeout: maximum time one start attempt may take.
        stop_timeout: the time a graceful stop is given (passed to :meth:`ServiceRun.stop`).
        stable_threshold: a run lasting at least this long resets the failure counter.
        restart: the restart policy.
        factory: makes a fresh :class:`ServiceRun` for each start attempt.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=_non_empty)
    kind: str
    auto_start: bool
    requires: tuple[str, ...] = attrs.field(converter=_str_tuple)
    start_timeout: float = attrs.field(validator=_positive)
    stop_timeout: float = attrs.field(validator=_positive)
    stable_threshold: float = attrs.field(validator=_non_negative)
    restart: RestartPolicy
    factory: Callable[[], ServiceRun] = attrs.field(eq=False)


#: Called when something supervised is started again after it ended:
#: ``(service or group ID, child ID or None for a service, restart count, last error)``.
RestartHook = Callable[[str, str | None, int, str | None], None]


@attrs.frozen
class ServiceInfo:
    """A snapshot of one service, as returned by ``ServiceSupervisor.services()``.

    Attributes:
        id: the entry ID.
        kind: the entry kind.
        state: the current state.
        failures: the failure count of the current series (what ``max_attempts`` is compared
            with); reset by a stable run and by an explicit start.
        restarts: how many times the supervisor restarted the service after a failure, over
            the supervisor's lifetime.
        last_error: the last error seen (failed start, failed run, non-retryable exit, or
            ``dependency <id> is not available``); ``None`` if there was none.
        pid: the PID of the current run while ``starting``, ``running`` or ``stopping`` (only
            ``process.service`` runs have one); ``None`` otherwise.
        since: ``trio.current_time()`` of the last state transition (of the supervisor's
            construction for services still ``registered``).

    .. versionadded:: 0.1.0
    """

    id: str
    kind: str
    state: ServiceState
    failures: int
    restarts: int
    last_error: str | None
    pid: str | None
    since: float


class BootFailed(OrreryError):
    """A service of the boot start set gave up or exited with an error before boot completed.

    By the time this is raised the supervisor has stopped everything it started.

    Attributes:
        service_id: the service that failed the boot; ``None`` when the boot was cut short by a
            shutdown instead.
        last_error: that service's last error.

    .. versionadded:: 0.1.0
    """

    default_kind = UNAVAILABLE

    def __init__(self, service_id: str | None, last_error: str | None) -> None:
        if service_id is None:
            message = "boot failed: the supervisor was shut down during boot"
        else:
            message = f"boot failed: service {service_id} is not available: {last_error}"
        super().__init__(message)
        self.service_id: str | None = service_id
        self.last_error: str | None = last_error
