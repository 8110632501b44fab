"""The asyncio <-> trio bridge (hosts/temporal/_bridge.py), under trio.run."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest
import trio
from orrery.hosts.temporal._bridge import AsyncioThread
from orrery.runtime._errors import Canceled, InvalidError, Unavailable


class Boom(Exception):
    pass


async def _thread_id() -> int:
    await asyncio.sleep(0)
    return threading.get_ident()


class TestRun:
    async def test_result_crosses(self) -> None:
        """run() returns the coroutine's value, computed on the asyncio thread."""
        async with AsyncioThread() as bridge:

            async def add(a: int, b: int) -> int:
                await asyncio.sleep(0.001)
                return a + b

            assert await bridge.run(add, 2, 3) == 5
            assert bridge.thread is not None
            assert await bridge.run(_thread_id) == bridge.thread.ident
            assert bridge.thread.ident != threading.get_ident()

    async def test_exception_crosses(self) -> None:
        """An exception of the coroutine is raised in the trio caller."""
        async with AsyncioThread() as bridge:

            async def fail() -> None:
                await asyncio.sleep(0)
                raise Boom("from asyncio")

            with pytest.raises(Boom, match="from asyncio"):
                await bridge.run(fail)

            def not_a_coroutine() -> int:
                return 1

            with pytest.raises(TypeError):
                await bridge.run(not_a_coroutine)  # type: ignore[arg-type]

    async def test_many_concurrent_calls(self) -> None:
        """Concurrent run() calls from many trio tasks each get their own result."""
        async with AsyncioThread() as bridge:
            results: dict[int, int] = {}

            async def square(i: int) -> int:
                await asyncio.sleep(0.001 * (i % 3))
                return i * i

            async def one(i: int) -> None:
                results[i] = await bridge.run(square, i)

            async with trio.open_nursery() as nursery:
                for i in range(50):
                    nursery.start_soon(one, i)
            assert results == {i: i * i for i in range(50)}

    async def test_trio_cancel_cancels_asyncio_task(self) -> None:
        """Cancelling the trio caller cancels the asyncio task and waits for its cleanup."""
        async with AsyncioThread() as bridge:
            started = threading.Event()
            events: list[str] = []

            async def slow() -> None:
                started.set()
                try:
                    await asyncio.sleep(30)
                except asyncio.CancelledError:
                    await asyncio.sleep(0.05)  # cleanup that takes a while
                    events.append("asyncio cleaned up")
                    raise

            with trio.move_on_after(5) as outer:
                with trio.CancelScope() as scope:
                    async with trio.open_nursery() as nursery:

                        async def cancel_when_started() -> None:
                            await trio.to_thread.run_sync(started.wait)
                            scope.cancel()

                        nursery.start_soon(cancel_when_started)
                        await bridge.run(slow)
                        events.append("not cancelled?")
            assert not outer.cancelled_caught
            assert scope.cancelled_caught
            # The cleanup finished before run() raised Cancelled.
            assert events == ["asyncio cleaned up"]

    async def test_cancel_is_bounded_when_asyncio_ignores_it(self) -> None:
        """A task that swallows cancellation is abandoned after cancel_timeout."""
        async with AsyncioThread(cancel_timeout=0.2) as bridge:
            release = asyncio.Event()

            async def stubborn() -> str:
                while True:
                    try:
                        await asyncio.sleep(30)
                    except asyncio.CancelledError:
                        if release.is_set():
                            return "released"

            t0 = trio.current_time()
            with trio.move_on_after(0.05) as scope:
                await bridge.run(stubborn)
            assert scope.cancelled_caught
            assert trio.current_time() - t0 < 2.0
            # Let stop() finish quickly: the task ends on its next cancellation.
            bridge.loop.call_soon_threadsafe(release.set)

    async def test_cancel_before_asyncio_started(self) -> None:
        """A caller cancelled at once still gets Cancelled (nothing is left running)."""
        async with AsyncioThread() as bridge:
            ran: list[int] = []

            async def mark() -> None:
                ran.append(1)
                await asyncio.sleep(30)

            with trio.CancelScope() as scope:
                scope.cancel()
                await bridge.run(mark)
            assert scope.cancelled_caught
            assert await bridge.run(_count_other_tasks) == 0

    async def test_asyncio_side_cancel_is_canceled_error(self) -> None:
        """A task cancelled by asyncio code raises orrery's Canceled in trio."""
        async with AsyncioThread() as bridge:

            async def self_cancel() -> None:
                task = asyncio.current_task()
                assert task is not None
                task.cancel()
                await asyncio.sleep(1)

            with pytest.raises(Canceled):
                await bridge.run(self_cancel)


async def _count_other_tasks() -> int:
    await asyncio.sleep(0.01)
    me = asyncio.current_task()
    return len([t for t in asyncio.all_tasks() if t is not me])


class TestCallbacks:
    async def test_call_soon_trio_runs_on_trio_thread(self) -> None:
        """Callbacks handed back from asyncio run on the trio thread, in order."""
        trio_thread = threading.get_ident()
        seen: list[tuple[int, int]] = []
        done = trio.Event()
        async with AsyncioThread() as bridge:

            async def producer() -> None:
                for i in range(5):
                    bridge.call_soon_trio(lambda i=i: seen.append((i, threading.get_ident())))
                    await asyncio.sleep(0)
                bridge.call_soon_trio(done.set)

            await bridge.run(producer)
            with trio.fail_after(5):
                await done.wait()
        assert seen == [(i, trio_thread) for i in range(5)]

    async def test_submit_fire_and_forget(self) -> None:
        """submit() schedules from any thread and returns a concurrent future."""
        async with AsyncioThread() as bridge:
            got = trio.Event()

            async def work(x: int) -> int:
                bridge.call_soon_trio(got.set)
                return x + 1

            fut = bridge.submit(work(41))
            assert isinstance(fut, concurrent.futures.Future)
            with trio.fail_after(5):
                await got.wait()
            assert await trio.to_thread.run_sync(fut.result, 5) == 42


class TestLifecycle:
    async def test_stop_is_clean(self) -> None:
        """stop() cancels leftover tasks, fails pending callers, ends the thread."""
        bridge = AsyncioThread()
        await bridge.start()
        thread = bridge.thread
        assert thread is not None and thread.is_alive()
        cleaned = threading.Event()

        async def forever() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                cleaned.set()

        fut = bridge.submit(forever())
        errors: list[BaseException] = []

        async def caller() -> None:
            try:
                await bridge.run(asyncio.sleep, 3600)
            except Unavailable as exc:
                errors.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(caller)
            await trio.sleep(0.05)
            with trio.fail_after(10):
                await bridge.stop()
        assert not thread.is_alive()
        assert cleaned.is_set()
        assert fut.cancelled()
        assert len(errors) == 1
        assert bridge._loop is not None and bridge._loop.is_closed()
        await bridge.stop()  # twice is fine
        with pytest.raises(Unavailable):
            await bridge.run(_thread_id)
        coro = _thread_id()
        with pytest.raises(Unavailable):
            bridge.submit(coro)

    async def test_start_twice_is_invalid(self) -> None:
        async with AsyncioThread() as bridge:
            with pytest.raises(InvalidError):
                await bridge.start()

    async def test_exit_on_error_still_stops(self) -> None:
        """Leaving the async with by an exception stops the thread."""
        bridge = AsyncioThread()
        with pytest.raises(Boom):
            async with bridge:
                raise Boom
        assert bridge.thread is not None and not bridge.thread.is_alive()
