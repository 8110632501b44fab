"""A signal a workflow cannot decode is dropped, and the workflow goes on (docs/guide.md).

Anyone with access to the Temporal namespace can signal a workflow with any payload
(the ``temporal`` CLI, another SDK). Each case sends one such signal between two good
messages, through a plain temporalio client of the session server, and checks that the
workflow receives both good messages in order, completes, logs one error naming the
workflow, the signal and why, and counts the drop in its memo (``orrery inspect``).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import trio
from orrery.hosts.temporal._observe import describe_workflow
from orrery.hosts.temporal._workflow import FROM_HEADER
from orrery.runtime._codec import decode, encode
from orrery.testing import assert_replays, fetch_histories
from temporalio.api.common.v1 import Header, Payload, Payloads, WorkflowExecution
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.common import RawValue

APP = Path(__file__).parent / "apps" / "badsignals"
CLIENT = "t.bad:temporal"
WORKER = "t.bad:worker"


def msgpack(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"binary/msgpack"}, data=data)


def json_plain(text: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text)


#: about 1.5 MB of empty maps: 1.5 million Lua tables, far past the app's 16 MiB limit
HUGE = msgpack(b"\xdd" + (1_500_000).to_bytes(4, "big") + b"\x80" * 1_500_000)

#: kind -> (signal name, payloads, orrery-from header or None, what the log line says)
BAD: dict[str, tuple[str, list[Payload], Payload | None, str]] = {
    "malformed_msgpack": (
        "item",
        [msgpack(b"\xa5ab")],
        None,
        "malformed msgpack at byte 3: truncated string",
    ),
    "trailing_bytes": ("item", [msgpack(b"\x01\x02")], None, "trailing bytes"),
    "json_int_beyond_64_bits": (
        "item",
        [json_plain(b"18446744073709551616")],
        None,
        "argument 1: integer 18446744073709551616 does not fit in 64 signed bits",
    ),
    "malformed_json": ("item", [json_plain(b"{nope")], None, "argument 1: invalid JSON"),
    "unknown_encoding": (
        "item",
        [json_plain(b"1"), Payload(metadata={"encoding": b"binary/protobuf"}, data=b"\x08\x01")],
        None,
        "argument 2: unsupported payload encoding b'binary/protobuf'",
    ),
    "float_map_key": (
        "item",
        [msgpack(b"\x81\xcb" + b"\x3f\xf8" + b"\x00" * 6 + b"\x01")],
        None,
        "map key of type float",
    ),
    "uint64_beyond_int64": (
        "item",
        [msgpack(b"\xcf" + b"\xff" * 8)],
        None,
        "integer does not fit in 64 signed bits",
    ),
    "too_big_for_memory": (
        "item",
        [HUGE],
        None,
        "its values do not fit in the node's Lua memory limit of 16 MiB",
    ),
    "malformed_sender_header": (
        "item",
        [msgpack(encode("x"))],
        msgpack(b"\xc1"),
        f"the {FROM_HEADER} header cannot be decoded (malformed payload",
    ),
    "malformed_cancel": ("@orrery.cancel", [msgpack(b"\x92\x01")], None, "malformed payload"),
}


async def signal_raw(
    node: Any, workflow_id: str, name: str, payloads: list[Payload], header: Payload | None
) -> None:
    """Sends one signal with exactly these payloads, as another SDK or the CLI would."""
    client = node.temporal.router.clients[CLIENT]

    async def send() -> None:
        await client.workflow_service.signal_workflow_execution(
            SignalWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                signal_name=name,
                input=Payloads(payloads=payloads),
                header=Header(fields={FROM_HEADER: header}) if header is not None else None,
                identity="test_bad_signals",
            )
        )

    await node.temporal.bridge.run(send)


async def signal_json(node: Any, workflow_id: str, name: str, text: bytes) -> None:
    """A JSON signal, the way ``temporal workflow signal --input`` sends one."""
    client = node.temporal.router.clients[CLIENT]

    async def send() -> None:
        await client.get_workflow_handle(workflow_id).signal(name, RawValue(json_plain(text)))

    await node.temporal.bridge.run(send)


async def result_of(node: Any, workflow_id: str) -> Any:
    client = node.temporal.router.clients[CLIENT]

    async def wait() -> Any:
        handle = client.get_workflow_handle(workflow_id, result_type=RawValue)
        raw = await handle.result()
        return decode(raw.payload.data)

    with trio.fail_after(60):
        return await node.temporal.bridge.run(wait)


def drop_lines(caplog: pytest.LogCaptureFixture, workflow_id: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "orrery.workflow" and f"workflow {workflow_id} dropped" in r.getMessage()
    ]


def workflow_id_of(pid: str) -> str:
    return pid[pid.index("|") + 1 : -1]


@pytest.mark.parametrize("kind", list(BAD))
async def test_a_bad_signal_is_dropped_and_later_messages_arrive_in_order(
    kind: str, node_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="orrery.workflow")
    name, payloads, header, why = BAD[kind]
    async with node_factory(APP, temporal=True) as node:
        pid = await node.spawn("t.bad:collect", WORKER, 2)
        workflow_id = workflow_id_of(pid)
        await node.send(pid, "item", "first")  # the orrery path
        await signal_raw(node, workflow_id, name, payloads, header)
        await signal_json(node, workflow_id, "item", b'{"n": 2}')  # as the temporal CLI does
        assert await result_of(node, workflow_id) == ["first", {"n": 2}]
        record = await node.temporal.bridge.run(describe_workflow, node.temporal, pid)
    assert record["status"] == "completed"
    assert record["dropped_signals"] == 1
    [line] = drop_lines(caplog, workflow_id)
    assert f"workflow {workflow_id} dropped signal {name!r}: " in line
    assert why in line


async def test_many_arguments_arrive_as_one_table(node_factory: Any) -> None:
    """A signal with many arguments is no bad signal: the receiver gets them as a table."""
    async with node_factory(APP, temporal=True) as node:
        pid = await node.spawn("t.bad:collect", WORKER, 1)
        workflow_id = workflow_id_of(pid)
        args = [msgpack(encode(i)) for i in range(20_000)]
        await signal_raw(node, workflow_id, "item", args, None)
        assert await result_of(node, workflow_id) == [list(range(20_000))]
        record = await node.temporal.bridge.run(describe_workflow, node.temporal, pid)
    assert record["dropped_signals"] == 0


async def test_a_history_with_bad_signals_replays_without_logging_them_again(
    node_factory: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Replay drops the same signals again; the memory drop even under a larger limit."""
    caplog.set_level(logging.ERROR, logger="orrery.workflow")
    async with node_factory(APP, temporal=True) as node:
        pid = await node.spawn("t.bad:collect", WORKER, 2)
        workflow_id = workflow_id_of(pid)
        await node.send(pid, "item", "first")
        # the huge one first: delivered, it would be the second item and end the workflow
        # before the drops after it, so a replay that delivers it cannot match the history
        order = ["too_big_for_memory", *(k for k in BAD if k != "too_big_for_memory")]
        for kind in order:
            name, payloads, header, _ = BAD[kind]
            await signal_raw(node, workflow_id, name, payloads, header)
        await node.send(pid, "item", "second")
        assert await result_of(node, workflow_id) == ["first", "second"]
        histories = await fetch_histories(node)
    [history] = [h for h in histories if h.workflow_id == workflow_id]
    assert len(drop_lines(caplog, workflow_id)) == len(BAD)

    caplog.clear()
    await trio.to_thread.run_sync(assert_replays, APP, [history])
    roomy = tmp_path / "badsignals"
    shutil.copytree(APP, roomy)
    (roomy / "orrery.yaml").write_text('lua_memory_limit: "1GiB"\n')
    await trio.to_thread.run_sync(assert_replays, roomy, [history])
    assert drop_lines(caplog, workflow_id) == []
