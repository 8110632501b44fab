"""Bounded mailboxes on the native host (docs/mailboxes.md).

A sink process is a slow consumer with room for 3 messages of topic ``n`` (the whole mailbox,
or only topic ``n``), set in YAML or at spawn with ``process.with_options``; a driver sends it
10 messages. The tests check what the sink receives, what every send returns and when.
Every test runs under virtual time, so "when" is exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orrery
import pytest
import trio
from orrery.errors import InvalidError, NotFound, RateLimited

APP = Path(__file__).parent / "apps" / "mbox"
ENTRY = {"whole": "whole", "topic": "per_topic"}
TOTAL = 10

pytestmark = pytest.mark.autojump


def _override(scope: str, policy: str) -> list[str]:
    if scope == "whole":
        return [f"t.mbox:whole:mailbox.overflow={policy}"]
    return [f"t.mbox:per_topic:mailbox.topics.n.overflow={policy}"]


async def drive(where: str, scope: str, policy: str, mode: str) -> dict[str, Any]:
    """Runs the driver; the bound comes from YAML (``where="yaml"``) or the spawn options."""
    if where == "yaml":
        overrides = _override(scope, policy)
        args: tuple[Any, ...] = (ENTRY[scope], mode, TOTAL)
    else:
        overrides = []
        args = ("plain", mode, TOTAL, policy, scope)
    async with orrery.open_node([APP], overrides) as node:
        return await node.call("t.mbox:cases", "drive", *args)


WHERE_SCOPE = [("yaml", "whole"), ("yaml", "topic"), ("spawn", "whole"), ("spawn", "topic")]


@pytest.mark.parametrize(("where", "scope"), WHERE_SCOPE)
async def test_drop_newest_keeps_the_first_messages(where: str, scope: str) -> None:
    """drop_newest: a full mailbox discards new messages; the sender is not told."""
    result = await drive(where, scope, "drop_newest", "gate")
    assert result["got"] == [1, 2, 3]
    assert result["errors"] == []


@pytest.mark.parametrize(("where", "scope"), WHERE_SCOPE)
async def test_drop_oldest_keeps_the_last_messages(where: str, scope: str) -> None:
    """drop_oldest: a full mailbox discards its oldest message to take the new one."""
    result = await drive(where, scope, "drop_oldest", "gate")
    assert result["got"] == [8, 9, 10]
    assert result["errors"] == []


@pytest.mark.parametrize(("where", "scope"), WHERE_SCOPE)
async def test_fail_returns_a_retryable_rate_limited_error(where: str, scope: str) -> None:
    """fail: sends into a full mailbox return RateLimited (retryable) and are not queued."""
    result = await drive(where, scope, "fail", "gate")
    assert result["got"] == [1, 2, 3]
    assert [e["i"] for e in result["errors"]] == list(range(4, TOTAL + 1))
    assert {(e["kind"], e["retryable"]) for e in result["errors"]} == {("RateLimited", True)}
    message = result["errors"][0]["message"]
    assert "is full" in message and "(3 messages queued)" in message
    assert ('for topic "n"' in message) == (scope == "topic")


@pytest.mark.parametrize(("where", "scope"), WHERE_SCOPE)
async def test_block_suspends_the_sender_until_there_is_room(where: str, scope: str) -> None:
    """block: the sender waits while the mailbox is full; nothing is lost, order holds."""
    result = await drive(where, scope, "block", "slow")
    assert result["got"] == list(range(1, TOTAL + 1))
    assert result["errors"] == []
    # The sink sleeps 1 s, then takes one message every 100 ms: sends 1-3 fit at once,
    # send k > 3 returns when the sink took message k - 3.
    assert result["returned"] == [0, 0, 0] + [1000 + 100 * j for j in range(TOTAL - 3)]


async def test_unbounded_by_default() -> None:
    """Without a mailbox setting every message is queued, whatever the receiver does."""
    async with orrery.open_node([APP]) as node:
        result = await node.call("t.mbox:cases", "drive", "plain", "gate", 1000)
    assert result["got"] == list(range(1, 1001))
    assert result["errors"] == []


async def test_a_bound_on_one_topic_leaves_other_topics_unbounded() -> None:
    """Only the listed topic is bounded: 1,000 messages of another topic all arrive."""
    async with orrery.open_node([APP]) as node:
        pid = await node.spawn("t.mbox:per_topic", "t.mbox:processes", None, "gate", 0)
        async with node.mailbox() as me:
            for i in range(1000):
                await node.send(pid, "other", i, sender=me.pid)
            stats = node.native.mailbox_stats(pid)
    assert stats == {"topics": {"n": {"queued": 0, "dropped": 0, "capacity": 3, "blocked": 0}}}


async def test_python_senders_cannot_block_so_block_refuses_them() -> None:
    """node.send into a full "block" mailbox raises RateLimited instead of waiting."""
    async with orrery.open_node([APP]) as node:
        pid = await node.spawn("t.mbox:whole", "t.mbox:processes", None, "gate", 0)
        for i in range(3):
            await node.send(pid, "n", i)
        with pytest.raises(RateLimited, match=r"is full .*this sender cannot wait") as caught:
            await node.send(pid, "n", 3)
        counts = node.native.mailbox_stats(pid)
        assert counts is not None and counts["default"]["queued"] == 3
    # the Lua error's details reach Python (they were dropped on the way before)
    assert caught.value.retryable is True
    assert caught.value.details == {"pid": pid, "topic": "n", "capacity": 3}


async def test_python_senders_follow_the_drop_policies() -> None:
    """node.send into a full drop_newest mailbox returns normally; the message is dropped."""
    override = ["t.mbox:whole:mailbox.overflow=drop_newest"]
    async with orrery.open_node([APP], override) as node:
        pid = await node.spawn("t.mbox:whole", "t.mbox:processes", None, "gate", 0)
        for i in range(5):
            await node.send(pid, "n", i)
        counts = node.native.mailbox_stats(pid)
    assert counts is not None
    stats = counts["default"]
    assert (stats["queued"], stats["dropped"]) == (3, 2)


async def test_a_blocked_sender_fails_with_not_found_when_the_receiver_ends() -> None:
    """A sender blocked on a full mailbox is released with NotFound when the receiver dies."""
    async with orrery.open_node([APP]) as node:
        result = await node.call("t.mbox:cases", "blocked_then_receiver_dies")
        assert trio.current_time() >= 1
    assert result["ok"] is False
    assert result["kind"] == "NotFound"
    assert "ended while the sender waited for room" in result["message"]


async def test_sends_to_a_dead_pid_still_fail_with_not_found() -> None:
    """A bound changes nothing for dead PIDs: the send fails with NotFound as before."""
    async with orrery.open_node([APP]) as node:
        pid = await node.spawn("t.mbox:whole", "t.mbox:processes", None, "gate", 0)
        node.native.terminate(pid)
        with pytest.raises(NotFound):
            await node.send(pid, "n", 1)


@pytest.mark.parametrize(
    ("mailbox", "message"),
    [
        ({"capacity": 0}, "spawn option mailbox.capacity must be an integer of at least 1, got 0"),
        (
            {"capacity": 2, "overflow": "drop"},
            "spawn option mailbox.overflow must be block, drop_newest, drop_oldest or fail, "
            "got drop",
        ),
        (
            {"size": 2},
            'spawn option mailbox: unknown field "size" (known: capacity, overflow, topics)',
        ),
        ({"topics": {"@x": {"capacity": 1}}}, "spawn option mailbox.topics.@x: topics are"),
        (
            {"topics": {"a": {"overflow": "fail"}}},
            "spawn option mailbox.topics.a.capacity is required",
        ),
        ({"overflow": "fail"}, "spawn option mailbox needs a capacity or topics"),
        ("big", "spawn option mailbox must be a table, got string"),
    ],
)
async def test_bad_spawn_options_are_invalid_errors_naming_the_field(
    mailbox: Any, message: str
) -> None:
    """process.with_options({mailbox = ...}) with a bad setting fails the spawn with Invalid."""
    async with orrery.open_node([APP]) as node:
        result = await node.call("t.mbox:cases", "bad_option", mailbox)
    assert result["kind"] == "Invalid"
    assert result["message"].startswith(message)


@pytest.mark.parametrize("policy", ["drop_oldest", "drop_newest"])
async def test_a_consumer_that_never_reads_cannot_exhaust_memory(policy: str) -> None:
    """20,000 messages into a mailbox of 3 leave at most 3 queued and the Lua heap flat."""
    async with orrery.open_node([APP], [f"t.mbox:whole:mailbox.overflow={policy}"]) as node:
        pid = await node.spawn("t.mbox:whole", "t.mbox:processes", None, "gate", 0)
        engine = node.native.engine
        payload = "x" * 200
        for i in range(1000):  # warm up: tables reach their working size
            await node.send(pid, "n", payload, i)
        engine.collect()
        before = engine.memory_used()
        for i in range(20_000):
            await node.send(pid, "n", payload, i)
        engine.collect()
        grown = engine.memory_used() - before
        counts = node.native.mailbox_stats(pid)
    assert counts is not None
    stats = counts["default"]
    assert (stats["queued"], stats["dropped"]) == (3, 21_000 - 3)
    # unbounded, 20,000 messages of ~260 bytes would hold more than 5 MB
    assert grown < 64 * 1024


async def test_python_spawn_options_bound_a_mailbox_like_with_options() -> None:
    """node.spawn(options={"mailbox": ...}) bounds an entry that declares no mailbox."""
    async with orrery.open_node([APP]) as node:
        bounds = {"mailbox": {"capacity": 2, "overflow": "fail"}}
        pid = await node.spawn("t.mbox:plain", "t.mbox:processes", None, "gate", 0, options=bounds)
        for i in range(2):
            await node.send(pid, "n", i)
        with pytest.raises(RateLimited):
            await node.send(pid, "n", 2)
        with pytest.raises(InvalidError, match='unknown spawn option "mailbx"'):
            await node.spawn("t.mbox:plain", "t.mbox:processes", options={"mailbx": {}})
