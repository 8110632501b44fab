"""orrery.aio: embed a node in an asyncio application.

The node runs on trio. From asyncio it runs in trio's *guest mode*
(``trio.lowlevel.start_guest_run``): trio schedules its work as callbacks of
the running asyncio loop, on the same thread, so the node needs no thread of
its own and asyncio code awaits it directly::

    import asyncio
    import orrery.aio

    async def main():
        async with orrery.aio.open_node(["app/"]) as node:
            print(await node.call("app:main", "Ada"))
            async with node.mailbox() as me:
                pid = await node.spawn("app:greeter", "app:processes", "Hi")
                await node.send(pid, "hello", "Grace", sender=me.pid)
                print((await me.receive(timeout=5)).payload)

    asyncio.run(main())

A node with a ``temporal.worker`` still runs the Temporal SDK on its own
asyncio loop in a thread of its own (as under trio); the application's loop
is never shared with it. The module is named ``aio`` rather than ``asyncio``
because the repository root is the package: a file ``asyncio.py`` there
would shadow the standard library for anything run from a checkout.
See docs/asyncio.md.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import outcome
import trio

from .hosts._native import ExitResult, Mailbox, MailboxItem
from .runtime._errors import Canceled
from .runtime._node import Node
from .runtime._node import open_node as _open_trio_node
from .supervision import ServiceInfo

__all__ = ["AsyncMailbox", "AsyncNode", "open_node"]

T = TypeVar("T")


class _Guest:
    """The trio side of a guest run: a nursery that runs requests from asyncio."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.token: trio.lowlevel.TrioToken | None = None
        self.nursery: trio.Nursery | None = None
        self.stop = trio.Event()

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Awaits ``fn(*args)`` as a trio task, from asyncio."""
        assert self.token is not None and self.nursery is not None
        future: asyncio.Future[T] = self.loop.create_future()
        scope = trio.CancelScope()

        async def task() -> None:
            with scope:
                try:
                    result = await fn(*args)
                except trio.Cancelled:
                    if not future.done():
                        future.set_exception(Canceled("the node stopped before this finished"))
                    raise
                except trio.TooSlowError:
                    if not future.done():
                        future.set_exception(TimeoutError("timed out"))
                except BaseException as exc:  # handed to the asyncio caller
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result(result)

        nursery = self.nursery
        self.token.run_sync_soon(nursery.start_soon, task)
        try:
            return await future
        except asyncio.CancelledError:
            self.token.run_sync_soon(scope.cancel)  # the asyncio caller gave up
            raise


class AsyncMailbox:
    """A Python-side PID with a mailbox, for asyncio code (see :class:`orrery.Mailbox`).

    Attributes:
        pid: the mailbox's PID; processes reply to it.
    """

    def __init__(self, guest: _Guest, box: Mailbox) -> None:
        self._guest = guest
        self._box = box
        self.pid: str = box.pid

    async def receive(self, timeout: float | None = None) -> MailboxItem:
        """The next message; raises :class:`TimeoutError` after ``timeout`` seconds."""
        return await self._guest.run(self._box.receive, timeout)

    async def next_event(self, timeout: float | None = None) -> MailboxItem:
        """The next event (``pid.exit`` of a monitored process); :class:`TimeoutError` likewise."""
        return await self._guest.run(self._box.next_event, timeout)

    async def monitor(self, pid: str) -> None:
        """Receive a ``pid.exit`` event when the native process ``pid`` ends."""

        async def monitor() -> None:
            self._box.monitor(pid)

        await self._guest.run(monitor)


class AsyncNode:
    """A running node seen from asyncio: the methods of :class:`orrery.Node`, awaitable.

    Obtain one with :func:`open_node`. Failures raise the same
    :mod:`orrery.errors` exceptions; trio's ``TooSlowError`` becomes
    :class:`TimeoutError`. Cancelling the awaiting asyncio task cancels the
    operation inside the node.

    Attributes:
        node: the trio-side :class:`orrery.Node` (use it only from trio code).
    """

    def __init__(self, guest: _Guest, node: Node) -> None:
        self._guest = guest
        self.node = node

    async def call(self, function: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """Calls a ``function.lua`` entry and returns its result; raises its error."""
        return await self._guest.run(lambda: self.node.call(function, *args, context=context))

    async def spawn(self, entry: str, host: str, *args: Any, **options: Any) -> str:
        """Spawns ``entry`` on ``host``; returns the PID (a workflow on a ``temporal.worker``)."""
        return await self._guest.run(lambda: self.node.spawn(entry, host, *args, **options))

    async def exec(self, entry: str, host: str, *args: Any, **options: Any) -> Any:
        """Spawns ``entry`` and waits for its result (raises its error)."""
        return await self._guest.run(lambda: self.node.exec(entry, host, *args, **options))

    async def run_process(self, entry: str, host: str, *args: Any, **options: Any) -> ExitResult:
        """Spawns ``entry`` and returns how it ended, failure included."""
        return await self._guest.run(lambda: self.node.run_process(entry, host, *args, **options))

    async def send(self, dest: str, topic: str, *values: Any, sender: str | None = None) -> None:
        """Sends a message to a PID or registered name."""
        await self._guest.run(lambda: self.node.send(dest, topic, *values, sender=sender))

    async def terminate(self, dest: str) -> None:
        """Stops a process at once."""
        await self._guest.run(self.node.terminate, dest)

    async def cancel(self, dest: str, reason: str = "", deadline: float | None = None) -> None:
        """Asks a process to stop (CANCEL event), terminating it after ``deadline`` seconds."""
        await self._guest.run(self.node.cancel, dest, reason, deadline)

    async def wait_exit(self, pid: str) -> ExitResult:
        """Waits for a native process to end."""
        return await self._guest.run(self.node.wait_exit, pid)

    async def lookup(self, name: str) -> str | None:
        """The PID registered under ``name``, or None."""

        async def lookup() -> str | None:
            return self.node.lookup(name)

        return await self._guest.run(lookup)

    async def services(self) -> list[ServiceInfo]:
        """Every service with its state, failure count and current PID."""

        async def services() -> list[ServiceInfo]:
            return self.node.services()

        return await self._guest.run(services)

    async def start_service(self, service_id: str) -> None:
        """Starts a service (and what it requires)."""
        await self._guest.run(self.node.start_service, service_id)

    async def stop_service(self, service_id: str) -> None:
        """Stops a service gracefully."""
        await self._guest.run(self.node.stop_service, service_id)

    @asynccontextmanager
    async def mailbox(self) -> AsyncIterator[AsyncMailbox]:
        """A Python-side PID with a mailbox, closed when the block ends."""

        async def open_box() -> Mailbox:
            return self.node.native.open_mailbox()

        async def close_box(box: Mailbox) -> None:
            box.close()

        box = await self._guest.run(open_box)
        try:
            yield AsyncMailbox(self._guest, box)
        finally:
            await self._guest.run(close_box, box)


@asynccontextmanager
async def open_node(
    roots: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    overrides: Sequence[str] = (),
    **options: Any,
) -> AsyncIterator[AsyncNode]:
    """Boots a node inside the running asyncio loop and stops it when the block ends.

    Takes the arguments of :func:`orrery.open_node` (``state_dir``,
    ``max_memory``, ...). Only one node per asyncio loop: trio allows one
    guest run per thread.

    Raises:
        RegistryError: the apps do not load (all problems listed).
        OrreryError: the node failed to boot, or failed while it ran.
    """
    loop = asyncio.get_running_loop()
    guest = _Guest(loop)
    ready: asyncio.Future[AsyncNode] = loop.create_future()
    finished: asyncio.Future[outcome.Outcome[None]] = loop.create_future()

    async def main() -> None:
        guest.token = trio.lowlevel.current_trio_token()
        async with (
            _open_trio_node(roots, overrides, **options) as node,
            trio.open_nursery() as nursery,
        ):
            guest.nursery = nursery
            ready.set_result(AsyncNode(guest, node))
            await guest.stop.wait()
            nursery.cancel_scope.cancel()  # requests still running end with Canceled

    def done(result: outcome.Outcome[None]) -> None:
        if not ready.done():
            error = result.error if isinstance(result, outcome.Error) else None
            ready.set_exception(error or RuntimeError("the node ended during boot"))
        if not finished.done():
            finished.set_result(result)

    trio.lowlevel.start_guest_run(
        main,
        run_sync_soon_threadsafe=loop.call_soon_threadsafe,
        run_sync_soon_not_threadsafe=loop.call_soon,
        done_callback=done,
        host_uses_signal_set_wakeup_fd=True,
    )
    try:
        node = await ready
    except BaseException:
        await asyncio.shield(finished)
        raise
    try:
        yield node
    finally:
        assert guest.token is not None
        guest.token.run_sync_soon(guest.stop.set)
        result = await asyncio.shield(finished)
    result.unwrap()
