"""Payload copying.

See docs/reference/semantics.md, "Payloads"; docs/reference/lua-modules.md, "Conventions".

The Lua side builds one sample of every value class, sends it across a
boundary and lists the expectations the received copy does not meet; an empty
list means every value survived with its type.
"""

from __future__ import annotations

import orrery

from ._support import NATIVE, dirs, run_case, run_on_host


async def test_values_survive_messages_spawn_arguments_and_results(host: str) -> None:
    """Integers, floats, binary strings, nested tables, holes, PIDs, errors keep type and value."""
    assert await run_on_host("payload", "through_process", host) == {
        "message": [],
        "spawn_and_result": [],
    }


async def test_values_survive_function_arguments_and_results() -> None:
    """funcs.call arguments and results are copied under the same rules."""
    assert await run_case("payload", "through_call") == []


async def test_a_receiver_changing_its_copy_does_not_change_the_sender(host: str) -> None:
    """Mutating a received argument or message leaves the sender's table as it was."""
    original = {"x": "original", "list": ["original"]}
    assert await run_on_host("payload", "receiver_mutation", host) == {
        "arg": original,
        "msg": original,
    }


async def test_a_sender_changing_its_table_after_send_does_not_change_the_message(
    host: str,
) -> None:
    """The message is copied at send time: later changes by the sender are not seen."""
    result = await run_on_host("payload", "sender_mutation", host)
    assert (result["first_x"], result["list1"]) == ("original", "original")


async def test_payload_data_returns_a_fresh_copy_on_each_call(host: str) -> None:
    """Changing the table from one payload:data() call is not seen by the next call."""
    result = await run_on_host("payload", "sender_mutation", host)
    assert result["second_x"] == "original"


async def test_unencodable_values_are_refused_with_invalid(host: str) -> None:
    """Functions, coroutines, channels, cycles, depth > 128, Time and bad keys give nil, Invalid."""
    refused = {"send": "Invalid", "spawn": "Invalid", "call": "Invalid"}
    result = await run_on_host("payload", "unencodable", host)
    assert result == {
        "function": refused,
        "coroutine": refused,
        "channel": refused,
        "cyclic table": refused,
        "indirect cycle": refused,
        "depth 200": refused,
        "Time": refused,
        "table key": refused,
        "boolean key": refused,
        "function in a list": refused,
        "after": "still works",
    }


async def test_a_payload_object_crosses_as_its_value(host: str) -> None:
    """payload.new(v) sent or passed to spawn arrives as v; unencodable context is Invalid."""
    assert await run_on_host("payload", "payload_objects", host) == {
        "local_data": 1,
        "via_message": "inside",
        "via_spawn": {"x": 1, "list": [1.0]},
        "float_kept": True,
        "bad_context": {"returned_nil": True, "kind": "Invalid"},
    }


async def test_a_nesting_depth_of_100_is_encodable() -> None:
    """Tables nested well below the depth limit are copied whole."""
    assert await run_case("payload", "depth_100_is_fine") == 100


async def test_the_node_keeps_running_after_unencodable_sends() -> None:
    """A refused payload fails only that call; the same node serves the next call."""
    async with orrery.open_node(dirs("native", "payload")) as node:
        first = await node.call("t.payload:cases", "unencodable", NATIVE)
        assert first["after"] == "still works"
        assert await node.call("t.payload:cases", "through_call") == []
