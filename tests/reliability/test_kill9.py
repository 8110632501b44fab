"""A node killed with SIGKILL mid-workflow, started again, finishes the workflow.

Driven through the CLI: node A runs until the workflow reaches a chosen point
(an activity running, a durable timer pending, a wait for a message), then gets
SIGKILL (its embedded Temporal server goes down with it). Node B starts on the
same state directory, picks the workflow up from history and returns its
result. The history shows every activity completed exactly once: nothing that
had completed ran again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._nodes import NodeProcess, read_activities, run_exec

APP = Path(__file__).parent / "apps" / "durable"

# the log line after which node A is killed, and where the workflow then is
KILL_POINTS = {
    "during-activity": "step: b running",
    "during-timer": "flow: a done",
    "waiting-for-message": "flow: b done",
}


@pytest.mark.parametrize("kill_after", list(KILL_POINTS.values()), ids=list(KILL_POINTS))
def test_a_workflow_survives_kill_9_of_its_node(tmp_path: Path, kill_after: str) -> None:
    state = tmp_path / "state"
    node_a = NodeProcess(str(APP), "--state-dir", str(state))
    try:
        node_a.wait_for_line(kill_after, timeout=60)
    finally:
        node_a.kill()

    node_b = run_exec(APP, state, "dur:check", "dur:processes", timeout=120)
    assert node_b.returncode == 0, node_b.stderr
    assert json.loads(node_b.stdout) == ["A", "B", "GO", "C"]

    activities = read_activities(state / "temporal.db", ["flow-1"])
    # three activities scheduled in all, each completed exactly once: those that
    # had completed before the kill were not run again (one that was running
    # when the node died is retried by Temporal, and completes once)
    assert len(activities) == 3
    assert [a.completed for a in activities] == [1, 1, 1]
