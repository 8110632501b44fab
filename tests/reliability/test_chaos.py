"""Kill -9 at random moments: a chain of order workflows survives 20 SIGKILLs.

The driver runs ``orrery run`` on the chaos app (tests/reliability/apps/chaos:
activities, durable timers, a wait for a message, a child workflow and a saga
compensation), and kills the node with SIGKILL at 20 random moments (a seeded,
reproducible random delay after each start), restarting it on the same state
directory each time. A last node waits for every order and returns their
results. Then the histories are read back from the embedded server's database:
every activity step was scheduled once and completed once, and the activity
log lines of all the node lifetimes show that no activity ran again after it
had completed (each ran at most as many times as Temporal started it).
"""

from __future__ import annotations

import collections
import json
import random
import re
import time
from pathlib import Path
from typing import Any

from ._nodes import NodeProcess, read_activities, run_exec

APP = Path(__file__).parent / "apps" / "chaos"
SEED = 20261123
KILLS = 20
ORDERS = 10  # the starter service's input in the app
ACTIVITY_LINE = re.compile(r"activity (\w+) (order-\d+)")


def expected_result(n: int) -> dict[str, Any]:
    order = f"order-{n}"
    approval = "by the starter" if n == 1 else f"by order-{n - 1}"
    if n % 3 == 0:  # no courier: refunded, then released
        return {
            "status": "compensated",
            "reason": f"no courier for {order}",
            "undone": [f"refunded {order}", f"released {order}"],
            "approval": approval,
        }
    return {
        "status": "shipped",
        "reservation": f"res-{order}",
        "charge": f"chg-{order}",
        "tracking": f"trk-{order}",
        "approval": approval,
    }


def test_workflows_finish_right_through_20_random_kills(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    state = tmp_path / "state"
    lines: list[str] = []
    finished_before_kill: list[int] = []
    for _ in range(KILLS):
        node = NodeProcess(str(APP), "--state-dir", str(state))
        try:
            node.wait_for_line("polling task queue chaos", timeout=60)
            # the random moment of this kill: not a wait for anything
            time.sleep(rng.uniform(0.1, 2.5))
        finally:
            node.kill()
        lines += node.lines
        finished_before_kill.append(sum("order order-" in line for line in lines))

    last = run_exec(APP, state, "chaos:check", "chaos:processes", "--input", str(ORDERS))
    lines += last.stderr.splitlines(keepends=True)
    assert last.returncode == 0, last.stderr
    assert json.loads(last.stdout) == {
        f"order-{n}": expected_result(n) for n in range(1, ORDERS + 1)
    }
    # the kills landed while the chain was running, not after it
    assert sum(done < ORDERS for done in finished_before_kill) >= KILLS // 2

    activities = read_activities(state / "temporal.db")
    steps = collections.Counter((a.name, a.input) for a in activities)
    assert max(steps.values()) == 1  # no step was scheduled twice
    names = collections.Counter(a.name for a in activities)
    compensated = ORDERS // 3
    assert names == {
        "chaos:reserve": ORDERS,
        "chaos:charge": ORDERS,
        "chaos:ship": ORDERS,
        "chaos:refund": compensated,
        "chaos:release": compensated,
    }
    failed_ships = [a for a in activities if a.completed == 0]
    assert len(failed_ships) == compensated
    assert all(a.name == "chaos:ship" for a in failed_ships)
    assert all(a.completed == 1 for a in activities if a not in failed_ships)

    runs = collections.Counter(
        (f"chaos:{m[1]}", m[2]) for m in map(ACTIVITY_LINE.search, lines) if m
    )
    started: dict[tuple[str, str], int] = {}
    for a in activities:
        order = re.search(rb"order-\d+", a.input)
        assert order is not None
        started[(a.name, order[0].decode())] = a.attempt
    assert set(runs) == set(started)
    reruns = {step: runs[step] - started[step] for step in runs if runs[step] > started[step]}
    assert reruns == {}
    print(  # the figures of the reliability report (pytest -s / -rP)
        f"kills: {KILLS} ({sum(d < ORDERS for d in finished_before_kill)} while orders ran); "
        f"workflows checked: {ORDERS} orders + {ORDERS} shipments; "
        f"activity steps: {len(activities)}, retried after a kill: "
        f"{sum(a.attempt > 1 for a in activities)}, executions: {sum(runs.values())}, "
        f"ran again after completing: {len(reruns)}"
    )
