"""C library work inside a workflow is charged to its step budget (docs/sandbox.md).

Before the charge, ``table.remove(t, 1)`` in a loop held the worker's Lua state for
seconds, so every workflow on that worker failed with "Potential deadlock detected".
Now the workflow doing it fails its task with the budget error (the worker's answer to
a step that never waits), and a neighbour workflow on the same worker still completes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import orrery
import pytest
import trio

APP = Path(__file__).parent / "apps" / "wfcwork"
WORKER = "t.wfcwork:worker"


def _budget_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Worker log records of a failed activation whose cause is the step budget."""
    found = []
    for record in caplog.records:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += str(record.exc_info[1])
        if "t.wfcwork:remove_front: step budget exceeded" in text:
            found.append(record)
    return found


async def test_a_workflow_looping_in_c_fails_alone_and_its_neighbour_completes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The attack's task fails with the budget error; the neighbour answers; the worker runs."""
    caplog.set_level(logging.WARNING)
    async with orrery.open_node([APP]) as node:
        with trio.fail_after(90):
            attack = await node.spawn("t.wfcwork:remove_front", WORKER)
            while not _budget_failures(caplog):  # the attack ran (and was stopped)
                await trio.sleep(0.05)
            # a workflow started now runs in the same worker and Lua state
            answer = await node.call("t.wfcwork:neighbour")
            await node.terminate(attack)
        worker = next(s for s in node.services() if s.id == WORKER)
    assert answer == 42
    assert (worker.state, worker.failures) == ("running", 0)
