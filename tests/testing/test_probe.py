"""The probe of orrery.testing: expectations on messages and process ends.

These tests use the kit the way a user of orrery would: through the pytest
plugin's ``node`` and ``probe`` fixtures.
"""

from __future__ import annotations

from pathlib import Path

import orrery
import pytest
import trio
import trio.testing
from orrery.errors import ExpectationFailed
from orrery.testing import Probe

KIT = "tests/testing/apps/kit"
pytestmark = pytest.mark.orrery_node(KIT)


async def test_expect_returns_the_message_with_payload_and_sender(node, probe: Probe) -> None:
    pid = await node.spawn("kit:echo", "kit:processes", 1)
    await probe.send(pid, "ping", {"n": 7})
    msg = await probe.expect("echo")
    assert (msg.topic, msg.sender, msg.payload) == ("echo", pid, {"n": 7})


async def test_expect_fails_on_another_topic_naming_what_arrived(node, probe: Probe) -> None:
    pid = await node.spawn("kit:echo", "kit:processes", 1)
    await probe.send(pid, "ping", "hello")
    with pytest.raises(ExpectationFailed) as caught:
        await probe.expect("pong")
    text = str(caught.value)
    assert "expected a message 'pong'" in text
    assert f"got 'echo' from {pid} with payload 'hello'" in text
    assert isinstance(caught.value, AssertionError)  # pytest reports it as a failure


@pytest.mark.autojump
async def test_expect_fails_after_its_timeout_when_nothing_comes(probe: Probe) -> None:
    start = trio.current_time()
    with pytest.raises(ExpectationFailed, match=r"expected a message 'echo' within 2.5 s"):
        await probe.expect("echo", timeout=2.5)
    assert trio.current_time() - start == pytest.approx(2.5)


@pytest.mark.autojump
async def test_expect_no_message_fails_when_one_arrives(node, probe: Probe) -> None:
    await probe.expect_no_message(within=0.5)  # nothing sent yet: passes
    pid = await node.spawn("kit:echo", "kit:processes", 1)
    await probe.send(pid, "ping", 1)
    with pytest.raises(ExpectationFailed, match="expected no message, got 'echo'"):
        await probe.expect_no_message(within=0.5)


async def test_expect_exit_returns_the_value_of_a_normal_end(node, probe: Probe) -> None:
    pid = await node.spawn("kit:echo", "kit:processes", 1)
    exit_wait = trio.Event()
    async with trio.open_nursery() as nursery:

        async def watch() -> None:
            result = await probe.expect_exit(pid)
            assert (result.pid, result.value, result.error) == (pid, "done", None)
            exit_wait.set()

        nursery.start_soon(watch)
        await trio.testing.wait_all_tasks_blocked()
        await probe.send(pid, "ping", 1)
    assert exit_wait.is_set()
    assert (await probe.expect("echo")).payload == 1


async def test_expect_exit_returns_the_error_of_a_failed_process(probe: Probe) -> None:
    pid = await probe.spawn("kit:boom", "kit:processes", "bad input")
    result = await probe.expect_exit(pid)
    assert result.failed and result.error is not None and result.error.kind == "Internal"
    assert "boom.lua:2: bad input" in result.error.message
    with pytest.raises(orrery.errors.InternalError, match="bad input"):
        result.unwrap()


async def test_ends_of_other_processes_are_kept_for_their_own_wait(node, probe: Probe) -> None:
    first = await probe.spawn("kit:echo", "kit:processes", 1)
    second = await probe.spawn("kit:echo", "kit:processes", 1)
    await node.terminate(first)
    await node.terminate(second)
    for pid in (second, first):
        error = (await probe.expect_exit(pid)).error
        assert error is not None and error.kind == "Canceled"


async def test_expect_exit_of_a_process_that_already_ended_says_so(node, probe: Probe) -> None:
    result = await node.run_process("kit:boom", "kit:processes", "bad input")
    assert result.error.kind == "Internal" and "boom.lua:2: bad input" in result.error.message
    with pytest.raises(ExpectationFailed, match=r"cannot watch .* end: .*not alive.*probe.spawn"):
        await probe.expect_exit(result.pid)


@pytest.mark.autojump
async def test_expect_exit_fails_after_its_timeout_while_the_process_runs(
    node, probe: Probe
) -> None:
    pid = await node.spawn("kit:echo", "kit:processes", 1)
    with pytest.raises(ExpectationFailed, match=f"expected {pid} to end within 3 s"):
        await probe.expect_exit(pid, timeout=3)


async def test_hours_of_sleep_take_no_real_time_under_the_autojump_clock(
    node, probe: Probe, autojump_clock: trio.testing.MockClock
) -> None:
    start = autojump_clock.current_time()
    pid = await probe.spawn("kit:napper", "kit:processes", probe.pid, "3h")
    assert (await probe.expect("woke", timeout=4 * 3600)).payload == "3h"
    assert (await probe.expect_exit(pid)).value == {"slept_s": 3 * 3600}
    assert autojump_clock.current_time() - start == pytest.approx(3 * 3600)


async def test_expect_exit_waits_for_a_workflow_running_or_ended(node_factory) -> None:
    """A workflow's end is observed like a process's, through the Temporal host."""
    durable = Path(__file__).parent / "apps" / "durable"
    async with (
        node_factory(durable, temporal=True) as node,
        Probe.open(node) as probe,
        Probe.open(node) as late,
    ):
        pid = await node.spawn("dur:order", "dur:worker", "o-2")
        with trio.fail_after(60):
            first = await probe.expect_exit(pid, timeout=60)
            # `late` starts watching after the workflow ended: its end is still reported
            second = await late.expect_exit(pid, timeout=60)
    assert first.unwrap() == second.unwrap() == ["reserve:o-2", "charge:o-2"]


async def test_a_python_mailbox_cannot_monitor_a_workflow_synchronously(node_factory) -> None:
    durable = Path(__file__).parent / "apps" / "durable"
    async with node_factory(durable, temporal=True) as node, node.mailbox() as box:
        pid = await node.spawn("dur:order", "dur:worker", "o-4")
        with pytest.raises(orrery.errors.InvalidError, match=r"await mailbox\.watch"):
            box.monitor(pid)
        await box.watch(pid)
        with trio.fail_after(60):
            event = await box.next_event()
    assert (event.topic, event.sender) == ("pid.exit", pid)
