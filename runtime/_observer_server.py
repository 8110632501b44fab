"""The control socket a running node answers on (``orrery ps / tree / inspect``).

:func:`serve_control` binds the Unix domain socket of the node's state dir (see
``_observer_protocol``), readable and writable by the node's user only, and answers
each connection's one request from the node's own trio thread, so every snapshot is
taken between Lua steps.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket as stdlib_socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from . import _observer_snapshot as snapshot
from ._errors import OrreryError
from ._observer_protocol import MAX_LINE, PROTOCOL_VERSION, encode_line, socket_path

if TYPE_CHECKING:
    from ._node import Node

_log = logging.getLogger("orrery.observer")

#: Seconds a connection may take to send its request.
REQUEST_TIMEOUT = 10.0


async def _answer(node: Node, request: Any) -> Any:
    if not isinstance(request, dict) or not isinstance(request.get("op"), str):
        raise OrreryError("malformed request: expected {op, args}", kind="Invalid")
    if request.get("v") != PROTOCOL_VERSION:
        raise OrreryError(
            f"protocol version {request.get('v')!r} is not supported (this node speaks "
            f"{PROTOCOL_VERSION}); use the orrery command of the node's installation",
            kind="Invalid",
        )
    op, args = request["op"], request.get("args") or {}
    if op == "info":
        return snapshot.info(node)
    if op == "ps":
        return await snapshot.ps(node)
    if op == "tree":
        return snapshot.tree(node)
    if op == "inspect":
        target = args.get("pid")
        if not isinstance(target, str) or not target:
            raise OrreryError("inspect needs a PID or a registered name", kind="Invalid")
        return await snapshot.inspect(node, target)
    raise OrreryError(f"unknown operation {op!r}", kind="Invalid")


async def _handle(node: Node, stream: trio.SocketStream) -> None:
    async with stream:
        data = bytearray()
        with trio.move_on_after(REQUEST_TIMEOUT):
            while not data.endswith(b"\n") and len(data) <= MAX_LINE:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    break
                data += chunk
        try:
            answer: dict[str, Any] = {"ok": True, "result": await _answer(node, json.loads(data))}
        except OrreryError as exc:
            answer = {"ok": False, "error": {"kind": exc.kind, "message": exc.message}}
        except ValueError:
            answer = {"ok": False, "error": {"kind": "Invalid", "message": "request is not JSON"}}
        except Exception as exc:  # a bug here must not take the node down
            _log.exception("control request failed")
            answer = {"ok": False, "error": {"kind": "Internal", "message": str(exc)}}
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.send_all(encode_line(answer))


def _live(path: Path) -> bool:
    """Whether something answers on the socket at ``path`` (a stale file does not)."""
    probe = stdlib_socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


async def serve_control(
    node: Node, state_dir: Path, *, task_status: trio.TaskStatus[Path | None]
) -> None:
    """Answers control requests on the state dir's socket until cancelled.

    Reports the socket path through ``task_status`` once it listens, or ``None`` when
    another live node already answers there (this node then runs without one).
    """
    path = socket_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if _live(path):
            _log.warning(
                "another node answers on %s; this node has no control socket "
                "(give it its own --state-dir to observe it)",
                path,
            )
            task_status.started(None)
            return
        path.unlink()  # left behind by a node that was killed
    sock = trio.socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    try:
        await sock.bind(os.fspath(path))
        path.chmod(0o600)  # only the node's user may observe it
        mine = path.stat()
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _log.warning("control socket %s is in use; this node has no control socket", path)
            task_status.started(None)
            return
        raise
    sock.listen(16)
    listener = trio.SocketListener(sock)
    _log.info("observer: control socket %s", path)
    try:
        async with listener, trio.open_nursery() as nursery:
            task_status.started(path)
            while True:
                stream = await listener.accept()
                nursery.start_soon(_handle, node, stream)
    finally:
        with contextlib.suppress(OSError):
            now = path.stat()
            # A node that took over a stale path after we were killed owns it now.
            if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                path.unlink()
