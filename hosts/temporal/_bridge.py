"""The Temporal bridge: an asyncio event loop on its own thread, driven from trio.

The node runs on trio; the ``temporalio`` SDK is asyncio-only (and trio-asyncio
hangs its worker, see MEASURED.md). :class:`AsyncioThread` runs one asyncio loop in a
daemon thread. trio code awaits coroutines on it with :meth:`AsyncioThread.run`;
asyncio code hands work back to trio with :meth:`AsyncioThread.call_soon_trio`.

A hop costs two thread wake-ups: ``loop.call_soon_threadsafe`` one way, trio's
``TrioToken.run_sync_soon`` back (``bench/bridge_latency.py`` measures it). No Lua
state is touched from the asyncio thread by this module: what runs there is the
caller's business, and the rule of one OS thread per Lua state is theirs to keep.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import attrs
import outcome
import trio

from ...runtime._errors import Canceled, InvalidError, Unavailable

_log = logging.getLogger("orrery.temporal")

T = TypeVar("T")


@attrs.define(eq=False)
class _Hop:
    """The state of one :meth:`AsyncioThread.run` call, shared by both threads.

    ``task`` and the flags are only written on the asyncio thread (and by the loop
    thread's final sweep); ``raise_cancel`` is written on the trio thread before the
    hand-over that makes the asyncio side read it.
    """

    token: trio.lowlevel.TrioToken
    trio_task: trio.lowlevel.Task
    task: asyncio.Future[Any] | None = None
    delivered: bool = False
    cancel_requested: bool = False
    raise_cancel: Callable[[], Any] | None = None

    def deliver(self, result: outcome.Outcome[Any]) -> None:
        """Wakes the trio task with ``result``, exactly once."""
        if not self.delivered:
            self.delivered = True
            self.token.run_sync_soon(trio.lowlevel.reschedule, self.trio_task, result)


class AsyncioThread:
    """A dedicated asyncio event loop in a daemon thread, bridged to trio.

    Use it from trio as ``async with AsyncioThread() as bridge:``. The trio token is
    captured at :meth:`start`, so one bridge serves one ``trio.run``.

    Args:
        name: the thread's name.
        cancel_timeout: how long a cancelled :meth:`run` waits for its asyncio task
            to finish cancelling, and :meth:`stop` for the remaining tasks, in seconds.
    """

    def __init__(self, *, name: str = "orrery-asyncio", cancel_timeout: float = 5.0) -> None:
        self._name = name
        self._cancel_timeout = cancel_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._closing = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self._hops: set[_Hop] = set()
        self._submitted: set[concurrent.futures.Future[Any]] = set()

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> AsyncioThread:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with trio.CancelScope(shield=True):  # stop is bounded by cancel_timeout
            await self.stop()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop (only call its ``*_threadsafe`` methods from other threads).

        Raises:
            Unavailable: the bridge is not running.
        """
        if self._loop is None or self._closing:
            raise Unavailable("the asyncio bridge is not running")
        return self._loop

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread (``None`` before :meth:`start`)."""
        return self._thread

    async def start(self) -> None:
        """Starts the loop thread; returns once the loop is running.

        Must be called from trio; captures the current trio token for
        :meth:`call_soon_trio` and for delivering results.
        """
        if self._thread is not None:
            raise InvalidError("the asyncio bridge was already started")
        self._token = token = trio.lowlevel.current_trio_token()
        ready = trio.Event()
        self._thread = threading.Thread(
            target=self._main, args=(lambda: token.run_sync_soon(ready.set),), name=self._name
        )
        self._thread.daemon = True
        self._thread.start()
        await ready.wait()

    def _main(self, on_ready: Callable[[], None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(_exception_handler)
        self._loop = loop
        loop.call_soon(on_ready)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
                # Tasks that outlived the drain will never finish: fail their callers.
                for hop in list(self._hops):
                    hop.deliver(outcome.Error(Unavailable("the asyncio bridge stopped")))
                self._hops.clear()

    async def stop(self) -> None:
        """Cancels the remaining asyncio tasks, stops the loop and joins the thread.

        Pending :meth:`run` calls fail with :class:`Unavailable`. Tasks get
        ``cancel_timeout`` seconds to finish cancelling; the join is bounded too (a
        thread that does not end is left behind, as a daemon, with a warning).
        Stopping twice, or a bridge never started, does nothing.
        """
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or self._closing:
            return
        self._closing = True
        loop.call_soon_threadsafe(lambda: loop.create_task(self._drain()))
        await trio.to_thread.run_sync(
            thread.join, self._cancel_timeout + 5.0, abandon_on_cancel=True
        )
        if thread.is_alive():
            _log.warning("the asyncio bridge thread did not stop; leaving it behind")

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self._cancel_timeout)
            if pending:
                _log.warning("%d asyncio task(s) ignored cancellation at bridge stop", len(pending))
        try:
            await asyncio.wait_for(loop.shutdown_default_executor(), self._cancel_timeout)
        except TimeoutError:
            _log.warning("the asyncio default executor did not shut down in time")
        loop.stop()

    # -- trio -> asyncio -------------------------------------------------------------

    async def run(self, coro_fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Runs ``coro_fn(*args)`` on the asyncio loop and returns its result.

        Called from trio. An exception of the coroutine is raised here. If the
        calling trio task is cancelled, the asyncio task is cancelled and this waits
        (at most ``cancel_timeout``) for it to finish before raising
        ``trio.Cancelled``; a task that completes anyway returns its result, and
        trio delivers the cancellation at the next checkpoint.

        Raises:
            Unavailable: the bridge is not running or stopped meanwhile.
            Canceled: the asyncio task was cancelled by asyncio-side code.
        """
        loop = self.loop
        assert self._token is not None
        hop = _Hop(self._token, trio.lowlevel.current_task())

        def on_done(fut: asyncio.Future[Any]) -> None:
            self._tasks.discard(fut)
            self._hops.discard(hop)
            if fut.cancelled():
                if hop.cancel_requested and hop.raise_cancel is not None:
                    hop.deliver(outcome.capture(hop.raise_cancel))
                elif self._closing:
                    hop.deliver(outcome.Error(Unavailable("the asyncio bridge stopped")))
                else:
                    hop.deliver(outcome.Error(Canceled("the asyncio task was cancelled")))
                return
            exc = fut.exception()
            hop.deliver(outcome.Error(exc) if exc is not None else outcome.Value(fut.result()))

        def begin() -> None:
            if self._closing:
                hop.deliver(outcome.Error(Unavailable("the asyncio bridge stopped")))
                return
            try:
                hop.task = task = asyncio.ensure_future(coro_fn(*args))
            except BaseException as exc:
                hop.deliver(outcome.Error(exc))
                return
            self._tasks.add(task)
            self._hops.add(hop)
            task.add_done_callback(on_done)

        def give_up() -> None:
            if not hop.delivered and hop.raise_cancel is not None:
                _log.warning(
                    "an asyncio task ignored cancellation for %.1f s; abandoning it",
                    self._cancel_timeout,
                )
                self._hops.discard(hop)
                hop.deliver(outcome.capture(hop.raise_cancel))

        def cancel() -> None:
            hop.cancel_requested = True
            if hop.task is not None:
                hop.task.cancel()
            loop.call_later(self._cancel_timeout, give_up)

        def abort(raise_cancel: Callable[[], Any]) -> trio.lowlevel.Abort:
            hop.raise_cancel = raise_cancel
            try:
                loop.call_soon_threadsafe(cancel)
            except RuntimeError:
                # The loop is closed: its final sweep delivered every pending hop.
                if hop.delivered:
                    return trio.lowlevel.Abort.FAILED
                return trio.lowlevel.Abort.SUCCEEDED
            return trio.lowlevel.Abort.FAILED

        try:
            loop.call_soon_threadsafe(begin)
        except RuntimeError:  # closed between the check and the hand-over
            raise Unavailable("the asyncio bridge stopped") from None
        result: T = await trio.lowlevel.wait_task_rescheduled(abort)
        return result

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedules ``coro`` on the loop without waiting (fire and forget).

        Callable from any thread. The returned future may be ignored; an exception
        nobody asked for is logged. The task is cancelled at :meth:`stop`.

        Raises:
            Unavailable: the bridge is not running.
        """
        try:
            loop = self.loop
        except Unavailable:
            coro.close()
            raise
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        # The future holds the task (through its cancel callback): keep it until done.
        self._submitted.add(fut)
        fut.add_done_callback(self._submitted_done)
        return fut

    def _submitted_done(self, fut: concurrent.futures.Future[Any]) -> None:
        self._submitted.discard(fut)
        if not fut.cancelled() and (exc := fut.exception()) is not None:
            _log.error("a task submitted to the asyncio bridge failed", exc_info=exc)

    # -- asyncio -> trio -------------------------------------------------------------

    def call_soon_trio(self, fn: Callable[..., object], *args: Any) -> None:
        """Runs the sync ``fn(*args)`` on the trio thread, soon (FIFO order).

        Callable from any thread, typically asyncio-side code. ``fn`` must not block;
        to start async work, have it open a task in a nursery.

        Raises:
            Unavailable: the bridge was never started.
            trio.RunFinishedError: the trio run that started the bridge has ended.
        """
        if self._token is None:
            raise Unavailable("the asyncio bridge is not running")
        self._token.run_sync_soon(fn, *args)


def _exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    _log.error("asyncio bridge: %s", context.get("message", "unhandled error"), exc_info=exc)


__all__ = ["AsyncioThread"]
