"""Spawner builders: with_options, with_context, with_message.

See docs/reference/lua-modules.md, "Spawner builders".
"""

from __future__ import annotations

from ._support import NATIVE, run_case, run_on_host


async def test_deriving_twice_from_one_spawner_gives_independent_spawners(host: str) -> None:
    """Each builder call returns a new spawner; the base and its siblings are unchanged."""
    assert await run_on_host("spawner", "immutable", host) == {
        "base": {"a": 1},
        "left": {"a": 1, "b": 2},
        "right": {"a": 1, "c": 3},
        "message_two": ["m", "two"],
        "message_one": ["m", "one"],
        "assignment_raised": True,
    }


async def test_later_builder_values_override_earlier_ones(host: str) -> None:
    """with_context merges, and a later value for the same key wins."""
    assert await run_on_host("spawner", "later_options_override", host) == {"k": "second"}


async def test_an_unknown_option_key_makes_the_spawn_invalid(host: str) -> None:
    """Option keys other than workflow.* / temporal.workflow.* are rejected with Invalid."""
    refused = {"returned_nil": True, "kind": "Invalid"}
    assert await run_on_host("spawner", "unknown_option", host) == {
        "bogus": refused,
        "network": refused,
    }


async def test_workflow_start_options_are_ignored_on_a_native_host() -> None:
    """temporal.workflow.* and workflow.* keys do not affect a native spawn."""
    assert await run_case("spawner", "workflow_options_ignored", NATIVE) == {
        "result": {"ran": True},
        "id_not_a_name": "NotFound",
    }


async def test_a_startup_message_on_a_reserved_topic_is_invalid(host: str) -> None:
    """with_message topics follow the send rules: '@' topics make the spawn Invalid."""
    assert await run_on_host("spawner", "startup_topic_reserved", host) == {
        "returned_nil": True,
        "kind": "Invalid",
    }


async def test_spawn_errors_name_what_is_wrong() -> None:
    """Unknown entry or host: NotFound; a function entry, orrery:functions or a bad ID: Invalid."""
    not_found = {"returned_nil": True, "kind": "NotFound"}
    invalid = {"returned_nil": True, "kind": "Invalid"}
    assert await run_case("spawner", "spawn_errors", NATIVE) == {
        "unknown_entry": not_found,
        "unknown_host": not_found,
        "function_entry": invalid,
        "functions_host": invalid,
        "malformed_id": invalid,
        "exec_function": invalid,
    }
