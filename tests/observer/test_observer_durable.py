"""``orrery ps / inspect / tree`` show workflows with their Temporal status and Web UI link.

One node with the embedded dev server (Web UI on) runs a workflow that waits for a
message; the commands run against it while it waits.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from ._node import APPS, RunningNode


def test_a_waiting_workflow_shows_its_status_and_web_ui_link(tmp_path: Path) -> None:
    node = RunningNode(
        tmp_path, tmp_path / "state", str(APPS / "durable"),
        "--exec", "dur:waiter", "--host", "dur:worker", "--log-format", "json",
    )  # fmt: skip
    try:
        node.wait_for("waiter is waiting", timeout=60)
        ps = node.observe("ps", "--json")
        assert ps.returncode == 0, ps.stderr
        (workflow,) = json.loads(ps.stdout)["workflows"]
        assert (workflow["entry"], workflow["host"], workflow["status"]) == (
            "dur:waiter", "dur:worker", "running",
        )  # fmt: skip
        assert workflow["pid"] == f"{{dur:temporal@dur:worker|{workflow['workflow_id']}}}"
        assert workflow["task_queue"] == "observed"
        link = workflow["ui"]
        assert link.startswith("http://127.0.0.1:")
        assert link.endswith(f"/namespaces/default/workflows/{workflow['workflow_id']}/"
                             f"{workflow['run_id']}/history")  # fmt: skip
        with urllib.request.urlopen(link, timeout=10) as page:  # the UI serves the link
            assert page.status == 200

        inspect = node.observe("inspect", workflow["pid"], "--json")
        assert inspect.returncode == 0, inspect.stderr
        record = json.loads(inspect.stdout)
        assert (record["kind"], record["status"], record["ui"]) == ("workflow", "running", link)
        assert record["history_length"] > 0 and record["closed"] is None
        text = node.observe("inspect", workflow["pid"]).stdout
        assert f"Web UI:         {link}\n" in text and "status:         running\n" in text

        tree = json.loads(node.observe("tree", "--json").stdout)
        client = next(s for s in tree["services"] if s["id"] == "dur:temporal")
        assert link.startswith(client["ui"] + "/namespaces/")

        said = next(json.loads(line) for line in node.lines if '"waiter is waiting"' in line)
        assert (said["entry"], said["host"], said["pid"]) == (
            "dur:waiter", "dur:worker", workflow["pid"],
        )  # fmt: skip
    finally:
        node.stop()
