"""The embedded Temporal server dies alone in the middle of a run; the node carries on.

The node's ``temporal.client`` service notices its dev server exit, fails, and
its restart policy starts a new server on the same database file and port; the
worker reconnects by itself and the workflow finishes, each activity once.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from ._nodes import NodeProcess, read_activities

APP = Path(__file__).parent / "apps" / "durable"


def test_workers_carry_on_after_the_embedded_server_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    node = NodeProcess(str(APP), "--state-dir", str(state))
    try:
        first = node.wait_for_line("Temporal dev server ready at", timeout=60)
        node.wait_for_line("flow: a done", timeout=60)  # a durable timer is pending
        record = json.loads((state / "temporal.db.lock").read_text())
        os.kill(record["server_pid"], signal.SIGKILL)

        node.wait_for_line("exited on its own", timeout=30)
        again = node.wait_for_line("Temporal dev server ready at", timeout=60)
        node.wait_for_line("flow: c done", timeout=90)
    finally:
        code = node.interrupt()
    assert code == 0, "".join(node.lines)
    address = first.split("ready at ")[1].split()[0]
    assert again.split("ready at ")[1].split()[0] == address  # same port: clients reconnect
    activities = read_activities(state / "temporal.db", ["flow-1"])
    assert [a.completed for a in activities] == [1, 1, 1]
