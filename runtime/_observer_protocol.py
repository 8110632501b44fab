"""Where a node's control socket lives, and the client side of its protocol.

A node started with a control socket (``orrery run`` always has one) listens on a
Unix domain socket in its state dir: ``<state dir>/node.sock``. No network port is
opened. When that path is too long for a Unix socket address, the socket is
``<temp dir>/orrery-<hash of the state dir>.sock`` instead; server and client
compute the same path from the state dir, so users only ever name the state dir.

The protocol is one request and one answer per connection, each a single line of
UTF-8 JSON: ``{"v": 1, "op": OP, "args": {...}}`` and then either
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": {"kind": ..., "message": ...}}``.
Operations: ``info``, ``ps``, ``tree``, ``inspect`` (``args.pid``).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from ._errors import NodeNotRunning, error_for

#: Protocol version sent with every request.
PROTOCOL_VERSION = 1
#: File name of the socket inside the state dir.
SOCKET_NAME = "node.sock"
#: Longest socket path used as is (Linux allows 107 bytes, macOS 103).
MAX_SOCKET_PATH = 100
#: Largest request or answer line accepted, in bytes.
MAX_LINE = 16 * 1024 * 1024
#: Seconds a client waits for an answer.
CLIENT_TIMEOUT = 30.0


def default_state_dir() -> Path:
    """The state dir ``orrery run`` uses without ``--state-dir`` in the current directory."""
    return Path(".orrery")


def socket_path(state_dir: str | os.PathLike[str]) -> Path:
    """The control socket of the node whose state dir is ``state_dir``."""
    state = Path(state_dir).expanduser().absolute()
    path = state / SOCKET_NAME
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(state)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"orrery-{digest}.sock"


def encode_line(value: Any) -> bytes:
    """One protocol line."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def request(
    state_dir: str | os.PathLike[str],
    op: str,
    args: dict[str, Any] | None = None,
    *,
    timeout: float = CLIENT_TIMEOUT,
) -> Any:
    """Asks the node running in ``state_dir`` and returns its answer's result.

    Raises:
        NodeNotRunning: no node answers on that state dir's control socket.
        OrreryError: the node answered with an error (its kind and message).
    """
    path = socket_path(state_dir)
    shown = Path(state_dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(os.fspath(path))
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
            raise NodeNotRunning(
                f"no orrery node is running with state dir {shown} (nothing answers on "
                f"{path}); start one with `orrery run ROOT` (its state dir is ROOT/.orrery) "
                "or pass the --state-dir it uses",
            ) from None
        except PermissionError:
            raise error_for(
                "PermissionDenied", f"not allowed to connect to {path} (owned by another user?)"
            ) from None
        sock.sendall(encode_line({"v": PROTOCOL_VERSION, "op": op, "args": args or {}}))
        data = bytearray()
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_LINE:
                raise error_for("Internal", "the node's answer is too large")
    except TimeoutError:
        raise error_for(
            "Timeout", f"the node at {path} did not answer within {timeout:g} s"
        ) from None
    finally:
        sock.close()
    if not data:
        raise NodeNotRunning(f"the node at {path} closed the connection (stopping?)")
    answer = json.loads(data)
    if answer.get("ok"):
        return answer.get("result")
    error = answer.get("error") or {}
    raise error_for(error.get("kind") or "Internal", error.get("message") or "unknown error")
