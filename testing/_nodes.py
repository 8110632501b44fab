"""A fresh node for one test: its own state directory, optionally on a shared server."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..runtime._node import Node, load, open_node

if TYPE_CHECKING:
    from ._temporal import TemporalTestServer

#: Task queues handed out to nodes that share one Temporal server.
_queues = itertools.count(1)

Roots = Sequence[str | os.PathLike[str]] | str | os.PathLike[str]


def _as_list(roots: Roots) -> list[str | os.PathLike[str]]:
    if isinstance(roots, (str, os.PathLike)):
        return [roots]
    return list(roots)


#: How long a test node's native hosts wait for leftover processes at teardown.
FAST_STOP = "100ms"


def node_overrides(
    roots: Roots,
    overrides: Sequence[str] = (),
    *,
    fast_stop: bool = True,
    address: str | None = None,
    task_queue: str | None = None,
) -> list[str]:
    """The overrides :func:`open_test_node` applies to an app, around the test's own.

    With ``fast_stop``, every ``process.host`` gets ``lifecycle.stop_timeout``
    of 100 ms (before ``overrides``, so a test's own value wins): a process
    still running when the test ends is cancelled and soon terminated, instead
    of holding the teardown for the default 10 s. With ``address``, every
    ``temporal.client`` points at it with its embedded dev server turned off, and
    every ``temporal.worker`` uses ``task_queue`` (after ``overrides``), so nodes
    sharing one server never pick up each other's workflows.

    Args:
        roots: the app directories.
        overrides: the overrides the test gives.
        fast_stop: shorten the stop of native hosts.
        address: ``host:port`` of a Temporal frontend to use, or None.
        task_queue: the task queue for every worker when ``address`` is given.

    Returns:
        The complete list of overrides.
    """
    registry = load(_as_list(roots), overrides)
    before: list[str] = []
    if fast_stop:
        before = [
            f"{entry.id}:lifecycle.stop_timeout={FAST_STOP}"
            for entry in registry.of_kind("process.host")
        ]
    after: list[str] = []
    if address is not None:
        for entry in registry.of_kind("temporal.client"):
            after += [f'{entry.id}:address="{address}"', f"{entry.id}:dev_server.enabled=false"]
        for entry in registry.of_kind("temporal.worker"):
            after.append(f'{entry.id}:task_queue="{task_queue}"')
    return [*before, *overrides, *after]


@asynccontextmanager
async def open_test_node(
    roots: Roots,
    overrides: Sequence[str] = (),
    *,
    state_dir: str | os.PathLike[str] | None = None,
    temporal: TemporalTestServer | None = None,
    task_queue: str | None = None,
    fast_stop: bool = True,
) -> AsyncIterator[Node]:
    """Boots a fresh node for a test (trio) and stops it when the block ends.

    Like :func:`orrery.open_node`, with two differences that keep tests apart:
    the state directory is a new temporary one unless ``state_dir`` is given
    (a test never writes ``.orrery/`` into the app folder), processes left
    running end quickly at teardown (``fast_stop``), and with
    ``temporal`` every ``temporal.client`` of the app talks to that shared
    server instead of starting its own, each worker on a task queue of its own.

    Args:
        roots: app directories (one path or several).
        overrides: ``NS:ENTRY:FIELD=VALUE`` overrides, as on the command line.
        state_dir: where the node keeps its state; a temporary directory when None.
        temporal: a running :class:`TemporalTestServer` to use.
        task_queue: the task queue on ``temporal``; a fresh ``orrery-test-<n>`` when None.
        fast_stop: processes still running at the end are cancelled and, after
            100 ms, terminated; ``False`` keeps the hosts' own ``stop_timeout``
            (see :func:`node_overrides`).

    Yields:
        The running node.

    Example::

        async def test_greeter():
            async with open_test_node("app") as node:
                assert await node.call("app:main", "Ada") == "Hello, Ada"
    """
    roots = _as_list(roots)
    address = queue = None
    if temporal is not None:
        address = temporal.address
        queue = task_queue or f"orrery-test-{os.getpid()}-{next(_queues)}"
    overrides = node_overrides(
        roots, overrides, fast_stop=fast_stop, address=address, task_queue=queue
    )
    with tempfile.TemporaryDirectory(prefix="orrery-test-") as scratch:
        state = Path(state_dir) if state_dir is not None else Path(scratch)
        async with open_node(roots, overrides, state_dir=state) as node:
            yield node
