"""The data of a supervision group: strategies, restart types, specs and snapshots.

See :mod:`._group` for the run that uses them, and docs/supervision.md.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import attrs

from ._protocol import RunOutcome

__all__ = [
    "ChildInfo",
    "ChildState",
    "GroupChild",
    "GroupInfo",
    "GroupSpec",
    "ProcessStarter",
    "ProcessTarget",
    "RestartType",
    "Strategy",
    "blank_info",
]


class Strategy(enum.StrEnum):
    """What a restart-worthy child exit restarts (OTP's restart strategies).

    .. versionadded:: 0.1.0
    """

    ONE_FOR_ONE = "one_for_one"
    """Only the child that exited."""
    ONE_FOR_ALL = "one_for_all"
    """Every child: the others are stopped in reverse order, then all start in order."""
    REST_FOR_ONE = "rest_for_one"
    """The child that exited and every child after it in the list."""


class RestartType(enum.StrEnum):
    """When a child is restarted after it exited on its own (OTP's restart types).

    .. versionadded:: 0.1.0
    """

    PERMANENT = "permanent"
    """Always, a normal exit included."""
    TRANSIENT = "transient"
    """After a failure only: a normal exit and a ``retryable == false`` error are final."""
    TEMPORARY = "temporary"
    """Never; also not when a sibling's restart stopped it."""


class ChildState(enum.StrEnum):
    """The state of one child in the current run of its group.

    .. versionadded:: 0.1.0
    """

    REGISTERED = "registered"
    """Not started in this run yet."""
    STARTING = "starting"
    """Due to be (re)started, or its start is in progress."""
    RUNNING = "running"
    """Started; its exit has not been handled yet."""
    STOPPING = "stopping"
    """The group is stopping it (CANCEL sent, waiting at most ``shutdown``)."""
    EXITED = "exited"
    """Ended on its own and is not restarted (its restart type says so)."""
    STOPPED = "stopped"
    """Stopped by the group, and not restarted in this run."""


def _non_negative(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


@attrs.frozen
class ProcessTarget:
    """What a process child runs: ``entry`` spawned on ``host`` with ``args``.

    .. versionadded:: 0.1.0
    """

    entry: str
    host: str
    args: tuple[Any, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class GroupChild:
    """One child of a group: a process or a nested group.

    Attributes:
        id: unique within the group.
        process: what to spawn, for a process child.
        supervisor: the nested group, for a supervisor child (exactly one of the two is set).
        restart: the restart type.
        shutdown: seconds the child is given to end after its CANCEL before it is
            terminated; ``0`` terminates it at once (OTP's ``brutal_kill``). For a nested group
            this is the ``timeout`` of its :meth:`GroupRun.stop`.

    .. versionadded:: 0.1.0
    """

    id: str
    process: ProcessTarget | None = None
    supervisor: GroupSpec | None = None
    restart: RestartType = attrs.field(default=RestartType.TRANSIENT, converter=RestartType)
    shutdown: float = attrs.field(default=5.0, converter=float, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if not self.id:
            raise ValueError("a child needs a non-empty id")
        if (self.process is None) == (self.supervisor is None):
            raise ValueError(f"child {self.id}: give exactly one of process and supervisor")


def _check_children(inst: GroupSpec, _attr: object, children: tuple[GroupChild, ...]) -> None:
    seen: set[str] = set()
    for child in children:
        if child.id in seen:
            raise ValueError(f"supervisor {inst.id}: duplicate child id {child.id!r}")
        seen.add(child.id)


def _children_tuple(children: Iterable[GroupChild]) -> tuple[GroupChild, ...]:
    # `converter=tuple` itself leaves mypy's attrs plugin with an unsolved type variable
    return tuple(children)


def _check_intensity(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"intensity must be an integer >= 0, got {value!r}")


def _check_period(_inst: object, _attr: object, value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"period must be a finite number > 0, got {value!r}")


@attrs.frozen
class GroupSpec:
    """A group of children and how they are restarted.

    Attributes:
        id: the group's name in logs and errors (the entry ID).
        children: started in this order, stopped in the reverse order; ids are unique.
        strategy: what a restart-worthy exit restarts.
        intensity: at most this many restarts ...
        period: ... within this many seconds; one more makes the group fail.

    .. versionadded:: 0.1.0
    """

    id: str
    children: tuple[GroupChild, ...] = attrs.field(
        converter=_children_tuple, validator=_check_children
    )
    strategy: Strategy = attrs.field(default=Strategy.ONE_FOR_ONE, converter=Strategy)
    intensity: int = attrs.field(default=3, validator=_check_intensity)
    period: float = attrs.field(default=5.0, converter=float, validator=_check_period)


class ProcessStarter(Protocol):
    """How a group starts, cancels and terminates its process children.

    Every method is synchronous and acts at once.

    .. versionadded:: 0.1.0
    """

    def spawn(self, target: ProcessTarget, on_exit: Callable[[RunOutcome], None]) -> str:
        """Start a process and return its PID; raise an exception if it cannot start.

        ``on_exit`` is called exactly once, with how the process ended, classified as for a
        ``process.service`` (docs/reference/services.md, "Failure classification"). It may be
        called from inside :meth:`cancel`
        or :meth:`terminate`, but not from inside :meth:`spawn` (the PID is not known yet).
        """
        ...

    def cancel(self, pid: str, reason: str, deadline: float) -> None:
        """Send the process a CANCEL event whose deadline is ``deadline`` seconds from now.

        The group calls :meth:`terminate` itself at the deadline; the starter may also enforce
        it. May raise if the process is already gone.
        """
        ...

    def terminate(self, pid: str) -> None:
        """End the process at once; its ``on_exit`` follows promptly. May raise if gone."""
        ...


@attrs.frozen
class ChildInfo:
    """A snapshot of one child (see :meth:`GroupRun.info`).

    Attributes:
        id: the child id.
        kind: ``"process"`` or ``"supervisor"``.
        state: the child's state in the current run of its group.
        pid: the PID while a process child runs (``starting`` to ``stopping``), else ``None``.
        restarts: how many times the child was started again in this run of its group (after
            its own exit or as part of a sibling's restart).
        last_error: the last error the child ended with on its own (not an exit caused by a
            stop), or the error of a failed start; ``None`` if there was none.
        supervisor: the nested group's own snapshot, for a supervisor child.

    .. versionadded:: 0.1.0
    """

    id: str
    kind: str
    state: ChildState
    pid: str | None
    restarts: int
    last_error: str | None
    supervisor: GroupInfo | None = None


@attrs.frozen
class GroupInfo:
    """A snapshot of a group and its children, nested groups included.

    Attributes:
        id: the group's ID.
        state: the group's state (for a root group, the node reports its service state).
        strategy: the group's strategy.
        recent_restarts: restarts within the last ``period`` (the group fails when this would
            exceed its intensity).
        children: the children, in start order.

    .. versionadded:: 0.1.0
    """

    id: str
    state: str
    strategy: Strategy
    recent_restarts: int
    children: tuple[ChildInfo, ...]


def blank_info(spec: GroupSpec, state: str = "registered") -> GroupInfo:
    """The snapshot of a group that has not run: every child ``registered``."""
    return GroupInfo(
        id=spec.id,
        state=state,
        strategy=spec.strategy,
        recent_restarts=0,
        children=tuple(
            ChildInfo(
                id=c.id,
                kind="process" if c.process is not None else "supervisor",
                state=ChildState.REGISTERED,
                pid=None,
                restarts=0,
                last_error=None,
                supervisor=None if c.supervisor is None else blank_info(c.supervisor),
            )
            for c in spec.children
        ),
    )
