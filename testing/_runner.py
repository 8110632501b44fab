"""Running one ``async def`` test under trio, with values that live inside the run.

A node, a probe or a mailbox only exists inside a trio run, but pytest builds
fixture values before the test starts. Fixtures of :mod:`orrery.testing`
therefore hand the test an :class:`InRun` promise; :func:`run_test` opens every
promise inside the test's own ``trio.run`` (in argument order, each one after
the promises it depends on) and closes them in reverse order when the test ends.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import attrs
import trio

#: Resolves another promise from inside an opener (``await resolve(other)``).
Resolve = Callable[["InRun"], Awaitable[Any]]


@attrs.frozen(eq=False)
class InRun:
    """A fixture value that can only be built inside the test's trio run.

    Attributes:
        opener: called with a ``resolve`` function inside the run; returns the
            async context manager whose value the test receives. ``resolve``
            opens (once per test) the promises this one depends on.
        what: a short description for error messages (``"node"``).
    """

    opener: Callable[[Resolve], AbstractAsyncContextManager[Any]]
    what: str


async def _call_with_opened(fn: Callable[..., Awaitable[Any]], kwargs: Mapping[str, Any]) -> None:
    async with AsyncExitStack() as stack:
        opened: dict[int, Any] = {}

        async def resolve(promise: InRun) -> Any:
            key = id(promise)
            if key not in opened:
                opened[key] = await stack.enter_async_context(promise.opener(resolve))
            return opened[key]

        ready = {
            name: (await resolve(value)) if isinstance(value, InRun) else value
            for name, value in kwargs.items()
        }
        await fn(**ready)


def run_test(
    fn: Callable[..., Awaitable[Any]],
    kwargs: Mapping[str, Any],
    clock: trio.abc.Clock | None = None,
) -> None:
    """Runs the coroutine function ``fn(**kwargs)`` in a fresh ``trio.run``.

    Every :class:`InRun` among ``kwargs`` is opened first and closed after the
    test, so a node a test received is stopped (gracefully) before the run ends.
    A failure that comes out wrapped in exception groups of one member each is
    raised as itself.

    Args:
        fn: the test function.
        kwargs: its arguments, fixture values included.
        clock: the clock of the run (a ``trio.testing.MockClock`` for virtual time).
    """
    try:
        trio.run(functools.partial(_call_with_opened, fn, kwargs), clock=clock)
    except BaseExceptionGroup as group:
        # A failure inside `async with node` reaches pytest wrapped in the node's
        # nursery groups; a lone failure is shown as itself, so the report reads
        # like any other failed assertion.
        lone = _lone(group)
        if lone is None:
            raise
        raise lone from None


def _lone(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The single leaf exception of nested one-member groups, or None."""
    inner: BaseException = group
    while isinstance(inner, BaseExceptionGroup):
        if len(inner.exceptions) != 1:
            return None
        inner = inner.exceptions[0]
    return inner
