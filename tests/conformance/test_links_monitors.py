"""Exits, monitors and links.

See docs/reference/semantics.md, "Process exit", "Monitors"; docs/reference/lua-modules.md,
"Monitors and links".

Monitoring a process works on every host; links and the NotFound answers for
dead processes are native behaviour (a workflow target is observed one-way).
"""

from __future__ import annotations

from typing import Any

from ._support import NATIVE, run_case, run_on_host


async def native(case: str) -> Any:
    return await run_case("links", case, NATIVE)


async def test_exit_carries_the_returned_value(host: str) -> None:
    """A monitor gets one pid.exit event with from, an RFC 3339 'at' and result.value."""
    assert await run_on_host("links", "exit_with_value", host) == {
        "kind": "pid.exit",
        "is_exit": True,
        "at_is_rfc3339": True,
        "value": {"n": 42},
        "no_error": True,
    }


async def test_exit_carries_the_returned_or_raised_error(host: str) -> None:
    """A returned error keeps kind, message and retryable; a raised string becomes Internal."""
    assert await run_on_host("links", "exit_with_error", host) == {
        "returned": {"kind": "NotFound", "message": "no such order", "retryable": False},
        "returned_value_is_nil": True,
        "raised_kind": "Internal",
        "raised_mentions_boom": True,
    }


async def test_monitoring_twice_gives_one_exit(host: str) -> None:
    """monitor is idempotent per pair: both calls return true and only one EXIT arrives."""
    assert await run_on_host("links", "monitor_idempotent", host) == {
        "results": [True, True],
        "first_from_waiter": True,
        "next_from_later": True,
    }


async def test_unmonitor_removes_an_exit_already_queued() -> None:
    """unmonitor returns true and the queued, unreceived EXIT of that target is dropped."""
    assert await native("unmonitor_drops_queued_exit") == {
        "unmonitor": True,
        "next_from_later": True,
        "next_from_target": False,
    }


async def test_link_and_monitor_of_a_dead_process_are_not_found() -> None:
    """Linking or monitoring a native process that has ended fails with NotFound."""
    refused = {"returned_nil": True, "kind": "NotFound"}
    assert await native("dead_targets") == {"link": refused, "monitor": refused}


async def test_link_and_monitor_of_yourself_are_invalid() -> None:
    """A process cannot link to or monitor itself (Invalid)."""
    refused = {"returned_nil": True, "kind": "Invalid"}
    assert await native("self_watch") == {"link": refused, "monitor": refused}


async def test_a_failure_cascades_through_a_chain_of_untrapped_links() -> None:
    """Each untrapped peer fails with Internal 'linked process <pid> failed: <message>'."""
    result = await native("cascade")
    assert result["message"] == result["expected"]
    assert result == {
        "kind": "Internal",
        "retryable_is_nil": True,
        "message": result["expected"],
        "expected": result["expected"],
        "linked_pid_is_middle": True,
        "linked_kind": "Internal",
    }


async def test_a_link_fails_the_spawned_side_too() -> None:
    """Links are symmetric: the child of a failing parent dies with a linked-failure error."""
    result = await native("link_is_symmetric")
    assert result == {
        "linker": "Conflict",
        "child": "Internal",
        "child_message": result["expected"],
        "expected": result["expected"],
        "linked_kind": "Conflict",
    }


async def test_a_normal_exit_removes_the_link_silently() -> None:
    """An untrapped process linked to a process that returns normally keeps running."""
    assert await native("normal_exit_keeps_untrapped_peer") == {
        "exit_value": "fine",
        "after": "alive",
    }


async def test_link_down_follows_exit_and_only_for_failures() -> None:
    """With trap_links, a failure gives EXIT then LINK_DOWN; a normal exit gives EXIT only."""
    assert await native("link_down_only_on_failure") == {
        "seen": [["pid.exit", "good"], ["pid.exit", "bad"], ["pid.link.down", "bad"]],
        "link_down_error": {"kind": "Conflict", "message": "bad things", "retryable": False},
        "link_down_value_is_nil": True,
        "link_down_from_bad": True,
    }


async def test_trap_links_is_read_when_the_failure_arrives() -> None:
    """Setting trap_links after linking still turns the peer's failure into a LINK_DOWN."""
    assert await native("trap_set_after_link") == {
        "kind": "pid.link.down",
        "from_child": True,
        "error": {"kind": "Conflict", "message": "failed after go"},
    }


async def test_unlink_stops_failure_propagation() -> None:
    """After unlink, terminating the former peer does not affect this process."""
    assert await native("trapped_untrapped_after_unlink") == {
        "exit": "Canceled",
        "after": "alive",
    }


async def test_unlink_removes_a_link_down_already_queued() -> None:
    """unlink returns true and drops the queued, unreceived LINK_DOWN of that peer."""
    assert await native("unlink_drops_queued_link_down") == {
        "unlink": True,
        "next_kind": "pid.exit",
        "next_from_later": True,
    }


async def test_trap_links_defaults_to_false_and_rejects_bad_options() -> None:
    """trap_links starts false; set_options with a bad key or value fails and changes nothing."""
    assert await native("options") == {
        "default": {"trap_links": False},
        "unknown_key": {"ok": False, "kind": "Invalid"},
        "not_boolean": {"ok": False, "kind": "Invalid"},
        "after_bad": {"trap_links": False},
        "set": True,
        "after_set": {"trap_links": True},
    }
