"""Several nodes pointed at one Temporal server share the work of a task queue.

Node B serves the queue; node A starts 20 workflows from a native process.
The activity frames that ran them carry their node's name in their PIDs, and
both names appear: the work was shared.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orrery.hosts.temporal._devserver import DevServer

APP = Path(__file__).parent / "apps" / "multinode"


@contextmanager
def shared_server() -> Iterator[str]:
    """A dev server on its own asyncio thread for the duration of the block."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = DevServer()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=60)
    try:
        yield server.address
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def node_env(name: str) -> dict[str, str]:
    return {**os.environ, "ORRERY_NODE": name}


def test_two_nodes_share_the_workflows_of_one_task_queue(tmp_path: Path) -> None:
    with shared_server() as address:
        override = ["--override", f'multi:temporal:address="{address}"']
        node_b = subprocess.Popen(
            [sys.executable, "-m", "orrery", "run", str(APP), *override],
            env=node_env("nodeb"),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert node_b.stderr is not None
            for line in node_b.stderr:
                if "polling task queue shared" in line:
                    break
            else:
                raise AssertionError("node B never started its worker")
            # keep reading node B's log so it never blocks on a full pipe
            threading.Thread(target=node_b.stderr.read, daemon=True).start()
            node_a = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "orrery",
                    "run",
                    str(APP),
                    *override,
                    "--exec",
                    "multi:main",
                    "--host",
                    "multi:processes",
                    "--input",
                    "20",
                ],
                env=node_env("nodea"),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            node_b.terminate()
            node_b.wait(timeout=30)
            assert node_b.stderr is not None
            node_b.stderr.close()
    assert node_a.returncode == 0, node_a.stderr
    assert json.loads(node_a.stdout) == ["nodea", "nodeb"]
