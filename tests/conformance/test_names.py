"""The local name registry and named spawns.

See docs/reference/semantics.md, "Names"; docs/reference/lua-modules.md, "Spawner builders", "Name
registry".

Names live in the node's registry of native processes, so these cases are
native only (a workflow's name is its workflow ID).
"""

from __future__ import annotations

from typing import Any

from ._support import NATIVE, run_case


async def native(case: str) -> Any:
    return await run_case("names", case, NATIVE)


async def test_register_lookup_send_by_name_and_unregister() -> None:
    """A name resolves to its process until unregistered; then lookup and send give NotFound."""
    not_found = {"returned_nil": True, "kind": "NotFound"}
    assert await native("register_lookup_unregister") == {
        "register": True,
        "register_again": True,
        "lookup_is_me": True,
        "sent_by_name": "hi",
        "unregister": True,
        "unregister_again": False,
        "lookup_after": not_found,
        "send_after": not_found,
    }


async def test_monitor_cancel_and_terminate_accept_a_name() -> None:
    """A registered name works as destination for monitor, cancel and terminate."""
    assert await native("names_as_destinations") == {
        "monitor": True,
        "cancel": True,
        "terminate": True,
        "exit_from": True,
        "exit_kind": "Canceled",
    }


async def test_a_process_may_hold_several_names() -> None:
    """Two names can point at the same process."""
    assert await native("two_names_for_one_process") is True


async def test_a_name_can_be_registered_for_another_live_process() -> None:
    """register(name, pid) binds a live process; the name goes with it; a dead PID is NotFound."""
    assert await native("register_other") == {
        "register": True,
        "found": True,
        "released_with_process": "NotFound",
        "dead": {"returned_nil": True, "kind": "NotFound"},
    }


async def test_a_name_held_by_another_process_is_already_exists() -> None:
    """register fails with AlreadyExists and the holder keeps the name."""
    assert await native("already_exists") == {
        "returned_nil": True,
        "kind": "AlreadyExists",
        "still_holder": True,
    }


async def test_a_name_is_released_before_the_monitor_sees_the_exit() -> None:
    """When the EXIT is received, the name is already free and can be registered again."""
    not_found = {"returned_nil": True, "kind": "NotFound"}
    assert await native("released_before_exit") == {
        "exit_value": "released",
        "lookup": not_found,
        "send": not_found,
        "reregister": True,
    }


async def test_a_named_spawn_of_a_live_name_returns_it_and_delivers_the_messages() -> None:
    """with_name spawn-or-signal: same PID, its startup messages go to the existing process."""
    assert await native("spawn_or_signal") == {
        "same_pid": True,
        "registered": True,
        "received": [[1, True], [2, True]],
    }


async def test_a_named_spawn_monitored_of_a_live_name_monitors_that_process() -> None:
    """Spawn-or-signal applies the requested monitor to the existing process."""
    assert await native("spawn_or_signal_monitors") == {"same_pid": True, "exit_value": "released"}


async def test_startup_messages_precede_later_messages_from_anyone() -> None:
    """with_message messages arrive first, in order, before messages sent after the spawn."""
    result = await native("startup_messages_first")
    assert result["first_two"] == [[1, True], [2, True]]
    assert result["values"][:2] == [1, 2]
    assert sorted(result["values"][2:], key=str) == [3, "other sender"]


async def test_names_with_braces_bars_or_empty_are_invalid() -> None:
    """A spawn name must be non-empty and free of { } |; otherwise the spawn is Invalid."""
    refused = {"returned_nil": True, "kind": "Invalid"}
    assert await native("bad_names") == [refused, refused, refused]


async def test_only_the_local_name_scope_is_accepted() -> None:
    """register with a cluster scope is Invalid."""
    assert await native("other_scopes") == {"returned_nil": True, "kind": "Invalid"}
