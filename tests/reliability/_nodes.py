"""Driving real ``orrery run`` nodes in subprocesses, and reading what their
embedded Temporal server recorded, for the reliability tests."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import temporalio.client
from orrery.hosts.temporal._converter import DATA_CONVERTER
from orrery.hosts.temporal._devserver import DevServer


def orrery_cmd(*args: str) -> list[str]:
    """The command line of the orrery CLI in this interpreter."""
    return [sys.executable, "-m", "orrery", *args]


def run_exec(
    app: Path, state: Path, entry: str, host: str, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``orrery run APP --state-dir STATE --exec ENTRY --host HOST ARGS...`` to the end."""
    return subprocess.run(
        orrery_cmd(
            "run", str(app), "--state-dir", str(state), "--exec", entry, "--host", host, *args
        ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class NodeProcess:
    """An ``orrery run`` subprocess whose log lines (stderr) are collected as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            orrery_cmd("run", *args),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_line(self, needle: str, timeout: float) -> str:
        """Blocks until a log line containing ``needle`` arrives; returns it."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no log line with {needle!r} within {timeout} s:\n" + "".join(self.lines)
                ) from None
            if line is None:
                raise AssertionError(
                    f"node exited before logging {needle!r}:\n" + "".join(self.lines)
                )
            self.lines.append(line)
            if needle in line:
                return line

    def drain(self) -> list[str]:
        """Every line logged so far (after the process ended: all of them)."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return self.lines
            if line is None:
                return self.lines
            self.lines.append(line)

    def kill(self) -> None:
        """SIGKILL: the node gets no chance to stop anything."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._join()

    def interrupt(self, timeout: float = 60) -> int:
        """SIGINT (Ctrl-C): an orderly stop; returns the exit status."""
        os.kill(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self._join()
        return code

    def _join(self) -> None:
        # the pump thread ends with the pipe; collect what it read
        while True:
            line = self._queue.get(timeout=30)
            if line is None:
                break
            self.lines.append(line)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


@attrs.frozen
class ActivityRecord:
    """One activity a workflow scheduled, as its history tells it.

    Attributes:
        workflow_id: the workflow that scheduled it.
        name: the activity type (the function entry ID).
        input: the encoded arguments (tells the steps of one activity type apart).
        completed: how many completions the history holds for it (1 is right).
        attempt: the last attempt started (1 when the first run completed it).
    """

    workflow_id: str
    name: str
    input: bytes
    completed: int
    attempt: int


def read_activities(db: Path, workflow_ids: Sequence[str] | None = None) -> list[ActivityRecord]:
    """Starts a dev server on ``db`` and reads the activities of the workflows there.

    ``workflow_ids`` of ``None`` reads every workflow the server knows.
    """

    async def read() -> list[ActivityRecord]:
        server = DevServer(database_file=str(db))
        await server.start()
        try:
            client = await temporalio.client.Client.connect(
                server.address, data_converter=DATA_CONVERTER
            )
            ids = list(workflow_ids or [wf.id async for wf in client.list_workflows()])
            records = []
            for wid in ids:
                history = await client.get_workflow_handle(wid).fetch_history()
                records += _activities_of(wid, history.events)
            return records
        finally:
            await server.stop()

    return asyncio.run(read())


def _activities_of(workflow_id: str, events: Sequence[Any]) -> list[ActivityRecord]:
    scheduled: dict[int, tuple[str, bytes]] = {}
    attempt: dict[int, int] = {}
    completed: dict[int, int] = {}
    for event in events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs_ = event.activity_task_scheduled_event_attributes
            data = b"".join(p.data for p in attrs_.input.payloads)
            scheduled[event.event_id] = (attrs_.activity_type.name, data)
        elif event.HasField("activity_task_started_event_attributes"):
            attrs_ = event.activity_task_started_event_attributes
            attempt[attrs_.scheduled_event_id] = attrs_.attempt
        elif event.HasField("activity_task_completed_event_attributes"):
            sid = event.activity_task_completed_event_attributes.scheduled_event_id
            completed[sid] = completed.get(sid, 0) + 1
    return [
        ActivityRecord(workflow_id, name, data, completed.get(sid, 0), attempt.get(sid, 0))
        for sid, (name, data) in scheduled.items()
    ]
