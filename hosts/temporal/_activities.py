"""Activities: function frames run on the node's native state, on behalf of workflows.

The worker's activities run on the asyncio thread; a function frame lives in
the native Lua state on the trio thread. :func:`on_trio` hops across and back.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import trio
from temporalio import activity
from temporalio.common import RawValue

from ...runtime._codec import ErrorValue, decode, encode
from ...runtime._errors import OrreryError
from ._converter import Packed, application_error, values_from_payloads
from ._workflow import ACTIVITY_CONTEXT, DELIVER_ACTIVITY, RANDOM_ACTIVITY

if TYPE_CHECKING:
    from .._native import NativeRuntime
    from ._bridge import AsyncioThread

#: Seconds between automatic heartbeats of a running function frame.
HEARTBEAT_EVERY = 5.0


async def on_trio(
    bridge: AsyncioThread, native: NativeRuntime, afn: Callable[..., Awaitable[Any]], *args: Any
) -> Any:
    """Runs ``afn(*args)`` as a trio task of the native runtime; awaits it from asyncio.

    Cancelling the awaiting asyncio task cancels the trio task.
    """
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()
    scope_box: list[trio.CancelScope] = []

    def settle(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)

    async def runner() -> None:
        with trio.CancelScope() as scope:
            scope_box.append(scope)
            try:
                value = await afn(*args)
            except BaseException as exc:  # report every outcome to the asyncio side
                loop.call_soon_threadsafe(
                    settle, False, exc if isinstance(exc, Exception) else asyncio.CancelledError()
                )
                if not isinstance(exc, Exception):
                    raise
                return
            loop.call_soon_threadsafe(settle, True, value)

    def start() -> None:
        nursery = native._nursery
        if nursery is None:
            loop.call_soon_threadsafe(
                settle, False, RuntimeError("the native runtime is not running")
            )
            return
        nursery.start_soon(runner)

    bridge.call_soon_trio(start)
    try:
        return await fut
    except asyncio.CancelledError:
        if scope_box:
            bridge.call_soon_trio(scope_box[0].cancel)
        raise


def make_activities(bridge: AsyncioThread, native: NativeRuntime) -> list[Callable[..., Any]]:
    """The dynamic function activity and the two internal local activities."""

    @activity.defn(dynamic=True)
    async def function(args: Sequence[RawValue]) -> Packed:
        name = activity.info().activity_type
        ctx_bytes = ACTIVITY_CONTEXT.get()
        args_bytes = values_from_payloads([a.payload for a in args])
        heartbeat = asyncio.get_running_loop().create_task(_heartbeat())
        try:
            result = await on_trio(bridge, native, native.call_encoded, name, args_bytes, ctx_bytes)
        except OrreryError as exc:
            raise application_error(
                ErrorValue(exc.kind, exc.message, exc.retryable, None)
            ) from None
        finally:
            heartbeat.cancel()
        if result.error is not None:
            raise application_error(result.error)
        return Packed(encode(result.value))

    @activity.defn(name=DELIVER_ACTIVITY)
    async def deliver(cmd: Packed) -> Packed:
        request = decode(cmd.data)
        answer = await on_trio(bridge, native, _deliver, native, request)
        return Packed(encode(answer))

    @activity.defn(name=RANDOM_ACTIVITY)
    async def random_bytes(n: Packed) -> Packed:
        count = decode(n.data)
        return Packed(encode(os.urandom(int(count))))

    return [function, deliver, random_bytes]


async def _heartbeat() -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY)
        activity.heartbeat()


async def _deliver(native: NativeRuntime, request: dict[str, Any]) -> dict[str, Any]:
    """A workflow's operation on a native process.

    See docs/reference/temporal.md, "Messages to native processes".
    """
    try:
        op = request.get("op")
        target: Any = request.get("target")  # as ops.lua sent it; the native side checks it
        if op == "send":
            values = request.get("values") or []
            if isinstance(values, dict):
                values = [values.get(i) for i in range(1, int(request.get("n", 0)) + 1)]
            native.send(target, request["topic"], values, sender=request.get("sender"))
        elif op == "terminate":
            native.terminate(target)
        elif op == "cancel":
            deadline = request.get("deadline_ns")
            native.cancel(
                target,
                request.get("reason") or "",
                None if deadline is None else deadline / 1e9,
                sender=request.get("sender"),
            )
        else:
            return {
                "ok": False,
                "error": ErrorValue("Invalid", f"unknown delivery {op!r}", False, None),
            }
    except OrreryError as exc:
        return {"ok": False, "error": ErrorValue(exc.kind, exc.message, exc.retryable, None)}
    return {"ok": True}
