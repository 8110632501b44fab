"""Conformance scenarios 1-5 (names, restarts, links, monitors, channels) via the Python API.

Each test boots a fresh node with the example's directories, calls its entry
and compares the returned value with the expected value of the spec.
"""

from __future__ import annotations

from typing import Any

import orrery
import pytest

from .conftest import app


async def call(dirs: list, entry: str, *args: object) -> Any:
    async with orrery.open_node(dirs) as node:
        return await node.call(entry, *args)


async def test_example_1_ping_pong_with_a_registered_name() -> None:
    result = await call(app("base-native", "ex01"), "ex.ping:main")
    assert result == {
        "texts": ["pong:1", "pong:2", "pong:3"],
        "exit_kind": "pid.exit",
        "exit_from_pong": True,
        "served": 3,
        "name_after_exit": "NotFound",
        "unregister": [True, False],
    }


async def test_example_2_supervised_worker_restarted_with_backoff() -> None:
    async with orrery.open_node(app("base-native", "ex02")) as node:
        result = await node.call("ex.super:main")
        assert result == {"runs": 3, "first_gap_ok": True, "second_gap_ok": True, "flaky_up": True}
        states = {s.id: s.state for s in node.services()}
        assert states["ex.super:flaky_svc"] == "running"
        assert states["ex.super:journal_svc"] == "running"
    states = {s.id: s.state for s in node.services()}
    assert states["ex.super:flaky_svc"] == "stopped"
    assert states["ex.super:journal_svc"] == "stopped"


async def test_example_2_variant_b_gives_up_after_max_attempts() -> None:
    overrides = ["ex.super:flaky_svc:lifecycle.restart.max_attempts=2"]
    async with orrery.open_node(app("base-native", "ex02"), overrides) as node:
        result = await node.call("ex.super:main")
        assert result == {"runs": 2}
        states = {s.id: s.state for s in node.services()}
        assert states["ex.super:flaky_svc"] == "given_up"
        assert states["ex.super:journal_svc"] == "running"


async def test_example_3_link_propagation_with_and_without_trap_links() -> None:
    result = await call(app("base-native", "ex03"), "ex.links:main")
    assert result == {
        "untrapped": {"kind": "Internal", "mentions_link": True, "linked_kind": "Unavailable"},
        "sleeper": {"kind": "Internal", "mentions_link": True},
        "trapped": {
            "trap_links": True,
            "order": ["pid.exit", "pid.link.down"],
            "both_from_bomb": True,
            "cause": "bomb went off",
            "cause_kind": "Unavailable",
        },
    }


async def test_example_4_monitors_exit_results_cancel_and_terminate() -> None:
    result = await call(app("base-native", "ex04"), "ex.watch:main")
    assert result == {
        "returner": {"ok": True, "n": 42},
        "failer": {"kind": "NotFound", "message": "no such order", "retryable": False},
        "polite": "cleaned up: shutdown requested",
        "stubborn": {
            "error": {"kind": "Canceled", "message": "cancel deadline exceeded"},
            "waited_ok": True,
        },
        "victim": {"kind": "Canceled", "message": "terminated"},
        "doomed_kind": "Internal",
        "ghost_event": False,
        "cancel_dead": "NotFound",
        "exec_native": {"ok": True, "n": 42},
    }


async def test_example_5_channels_select_and_coroutines() -> None:
    result = await call(app("base-native", "ex05"), "ex.chan:main")
    assert result == {
        "got": [1, 2, 3],
        "timeouts": 1,
        "after_close": {"ok": False},
        "polled_default": True,
        "picked": "from b",
        "sent": {"value": "parcel", "ok": True, "buffered": "parcel"},
        "send_on_closed_raises": True,
    }


@pytest.mark.parametrize("example", ["ex01", "ex03", "ex05"])
def test_examples_pass_orrery_check(example: str) -> None:
    from orrery.runtime._node import load

    registry = load(app("base-native", example))
    assert registry.entries
