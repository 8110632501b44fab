"""The Python embedding API (docs/reference/cli.md, "Embedding from Python").

A Python program boots a node with ``orrery.open_node`` and talks to Lua
processes through ``node.call/spawn/send/exec/mailbox/services``; failures
arrive as exceptions of ``orrery.errors`` with the kind a Lua caller would see.
"""

from __future__ import annotations

import re

import orrery
import pytest

from ._support import HOST_ENTRY, NATIVE, OVERRIDES, dirs

PID = re.compile(r"\{[^@|{}]+@[^|{}]+\|[^{}]+\}")


def open_node(host: str = "native"):
    return orrery.open_node(dirs(host, "embed"), OVERRIDES[host])


async def test_a_python_mailbox_receives_messages_from_lua(host: str) -> None:
    """node.mailbox() has a PID; a Lua process sends to it; msg.topic/payload/sender are set."""
    async with open_node(host) as node, node.mailbox() as me:
        assert PID.fullmatch(me.pid)
        pid = await node.spawn("t.embed:greeter", HOST_ENTRY[host], me.pid)
        msg = await me.receive(timeout=5)
        assert (msg.topic, msg.payload, msg.sender) == ("greet", {"x": 1, "list": [1, 2.5]}, pid)
        await node.send(pid, "reply", "thanks")
        got = await me.receive(timeout=5)
        assert (got.topic, got.payload, got.sender) == ("got", "thanks", pid)


async def test_node_send_reaches_a_lua_process_which_can_answer(host: str) -> None:
    """node.send delivers topic and values; a reply to the mailbox PID comes back in order."""
    async with open_node(host) as node, node.mailbox() as me:
        pid = await node.spawn("t.embed:responder", HOST_ENTRY[host])
        for n in range(1, 4):
            await node.send(pid, "ping", {"reply_to": me.pid, "n": n})
        answers = [await me.receive(timeout=5) for _ in range(3)]
        assert [(a.topic, a.payload["n"], a.sender) for a in answers] == [
            ("pong", 1, pid),
            ("pong", 2, pid),
            ("pong", 3, pid),
        ]
        await node.send(pid, "ping", {"stop": True})


async def test_native_pids_name_the_node_the_host_and_a_hex_counter() -> None:
    """A native PID is {local@<host entry>|0x<at least five lowercase hex digits>}, never reused."""
    async with open_node() as node:
        pids = [await node.spawn("t.embed:result", NATIVE, n) for n in range(3)]
    for pid in pids:
        assert re.fullmatch(r"\{local@app:processes\|0x[0-9a-f]{5,}\}", pid), pid
    assert len(set(pids)) == 3


async def test_a_message_sent_from_python_without_sender_has_from_nil(host: str) -> None:
    """msg:from() is nil for a message that does not come from a process."""
    async with open_node(host) as node, node.mailbox() as me:
        pid = await node.spawn("t.embed:inspector", HOST_ENTRY[host], me.pid)
        await node.send(pid, "note", 1, "two")
        seen = await me.receive(timeout=5)
        assert seen.payload == {"topic": "note", "from_is_nil": True, "data": [1, "two"]}


async def test_node_exec_returns_the_process_result(host: str) -> None:
    """node.exec spawns, waits and returns the value (whole floats stay floats)."""
    async with open_node(host) as node:
        value = await node.exec("t.embed:result", HOST_ENTRY[host], 21)
    assert value == {"doubled": 42, "float": 1.0}
    assert isinstance(value["float"], float)
    assert isinstance(value["doubled"], int)


KIND_CLASSES = [
    ("NotFound", orrery.errors.NotFound),
    ("Invalid", orrery.errors.InvalidError),
    ("AlreadyExists", orrery.errors.AlreadyExists),
    ("PermissionDenied", orrery.errors.PermissionDenied),
    ("Unavailable", orrery.errors.Unavailable),
    ("Internal", orrery.errors.InternalError),
    ("Canceled", orrery.errors.Canceled),
    ("Conflict", orrery.errors.Conflict),
    ("Timeout", orrery.errors.Timeout),
    ("RateLimited", orrery.errors.RateLimited),
    ("Payment", orrery.errors.OrreryError),
]


@pytest.mark.parametrize(("kind", "cls"), KIND_CLASSES)
async def test_node_exec_raises_the_class_of_the_error_kind(
    host: str, kind: str, cls: type[orrery.errors.OrreryError]
) -> None:
    """A failing process raises the orrery.errors class of its kind, with kind and message."""
    async with open_node(host) as node:
        with pytest.raises(cls) as caught:
            await node.exec("t.embed:failure", HOST_ENTRY[host], kind, "it went wrong")
    assert type(caught.value) is cls
    assert (caught.value.kind, caught.value.message) == (kind, "it went wrong")
    assert caught.value.retryable is False


async def test_node_call_raises_the_function_error() -> None:
    """node.call raises the class of the returned error kind."""
    async with open_node() as node:
        with pytest.raises(orrery.errors.Conflict, match="failed on purpose"):
            await node.call("t.embed:failing", "Conflict")
        assert await node.call("t.embed:add", 2, 3) == 5


async def test_a_raising_function_does_not_take_the_node_down() -> None:
    """After a call fails with Internal, the same node serves the next calls."""
    async with open_node() as node:
        with pytest.raises(orrery.errors.InternalError, match="raised in a function"):
            await node.call("t.embed:raiser")
        assert await node.call("t.embed:add", 1, 1) == 2
        assert await node.exec("t.embed:result", NATIVE, 1) == {"doubled": 2, "float": 1.0}


async def test_a_send_to_a_dead_pid_is_not_found_and_the_node_keeps_running() -> None:
    """Lua send and node.send to an ended process fail with NotFound; the node still works."""
    async with open_node() as node:
        assert await node.call("t.embed:send_to_dead") == {
            "returned_nil": True,
            "kind": "NotFound",
        }
        async with node.mailbox() as me:
            await node.spawn("t.embed:undertaker", NATIVE, me.pid)
            pid = (await me.receive(timeout=5)).payload
        with pytest.raises(orrery.errors.NotFound):
            await node.send(pid, "hello", 1)
        assert await node.call("t.embed:add", 20, 22) == 42


async def test_python_api_errors_for_unknown_targets_and_reserved_topics() -> None:
    """Unknown entries are NotFound; a reserved topic is Invalid; a closed mailbox is gone."""
    async with open_node() as node:
        with pytest.raises(orrery.errors.NotFound):
            await node.call("t.embed:nope")
        with pytest.raises(orrery.errors.NotFound):
            await node.spawn("t.embed:nope", NATIVE)
        pid = await node.spawn("t.embed:responder", NATIVE)
        with pytest.raises(orrery.errors.InvalidError):
            await node.send(pid, "@inbox", 1)
        async with node.mailbox() as me:
            closed = me.pid
        with pytest.raises(orrery.errors.NotFound):
            await node.send(closed, "hello")
        await node.send(pid, "ping", {"stop": True})


async def test_services_lists_every_service_with_its_state_and_pid() -> None:
    """node.services() shows the host and the process service running, the service's PID live."""
    async with open_node() as node:
        services = {s.id: s for s in node.services()}
        assert services["app:processes"].state == "running"
        keeper = services["t.embed:keeper_svc"]
        assert keeper.state == "running"
        assert keeper.pid is not None and PID.fullmatch(keeper.pid)
        # the PID names a live process: a message to it is accepted
        await node.send(keeper.pid, "hello", 1)
    states = {s.id: s.state for s in node.services()}
    assert states == {"app:processes": "stopped", "t.embed:keeper_svc": "stopped"}
