"""A node killed with SIGKILL mid-workflow, started again, finishes the workflow.

Driven through the CLI: node A runs until the workflow reaches a chosen point
(an activity running, a durable timer pending, a wait for a message), then gets
SIGKILL (its embedded Temporal server goes down with it). Node B starts on the
same state directory, picks the workflow up from history and returns its
result. The history shows every activity completed exactly once: nothing that
had completed ran again.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import temporalio.client
from orrery.hosts.temporal._converter import DATA_CONVERTER
from orrery.hosts.temporal._devserver import DevServer

APP = Path(__file__).parent / "apps" / "durable"


def orrery_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "orrery", *args]


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float) -> list[str]:
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen = []
    while True:
        line = lines.get(timeout=timeout)
        if line is None:
            raise AssertionError("node exited before: " + needle + "\n" + "".join(seen))
        seen.append(line)
        if needle in line:
            return seen


def activity_counts(db: Path) -> dict[str, int]:
    async def read() -> dict[str, int]:
        server = DevServer(database_file=str(db))
        await server.start()
        try:
            client = await temporalio.client.Client.connect(
                server.address, data_converter=DATA_CONVERTER
            )
            history = await client.get_workflow_handle("flow-1").fetch_history()
            completed: dict[str, int] = {}
            scheduled: dict[int, str] = {}
            for event in history.events:
                if event.HasField("activity_task_scheduled_event_attributes"):
                    attrs = event.activity_task_scheduled_event_attributes
                    scheduled[event.event_id] = attrs.input.payloads[0].data.decode(
                        errors="replace"
                    )
                if event.HasField("activity_task_completed_event_attributes"):
                    sid = event.activity_task_completed_event_attributes.scheduled_event_id
                    key = scheduled[sid]
                    completed[key] = completed.get(key, 0) + 1
            return {
                "scheduled": len(scheduled),
                **{f"completed:{k}": v for k, v in completed.items()},
            }
        finally:
            await server.stop()

    return asyncio.run(read())


# the log line after which node A is killed, and where the workflow then is
KILL_POINTS = {
    "during-activity": "step: b running",
    "during-timer": "flow: a done",
    "waiting-for-message": "flow: b done",
}


@pytest.mark.parametrize("kill_after", list(KILL_POINTS.values()), ids=list(KILL_POINTS))
def test_a_workflow_survives_kill_9_of_its_node(tmp_path: Path, kill_after: str) -> None:
    state = tmp_path / "state"
    node_a = subprocess.Popen(
        orrery_cmd("run", str(APP), "--state-dir", str(state)),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for_line(node_a, kill_after, timeout=60)
    finally:
        os.kill(node_a.pid, signal.SIGKILL)
        node_a.wait(timeout=30)
        assert node_a.stderr is not None
        node_a.stderr.close()

    node_b = subprocess.run(
        orrery_cmd(
            "run",
            str(APP),
            "--state-dir",
            str(state),
            "--exec",
            "dur:check",
            "--host",
            "dur:processes",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert node_b.returncode == 0, node_b.stderr
    assert json.loads(node_b.stdout) == ["A", "B", "GO", "C"]

    counts = activity_counts(state / "temporal.db")
    # three activities scheduled in all, each completed exactly once: those that
    # had completed before the kill were not run again (one that was running
    # when the node died is retried by Temporal, and completes once)
    assert counts["scheduled"] == 3
    assert sorted(v for k, v in counts.items() if k.startswith("completed:")) == [1, 1, 1]
