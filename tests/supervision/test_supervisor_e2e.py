"""A supervision tree of real Lua processes, declared in YAML, through ``orrery.open_node``.

The app (``apps/tree``) is a pipeline ``reader -> parsers -> writer`` under a ``rest_for_one``
supervisor; ``parsers`` is a nested ``one_for_all`` supervisor of ``p1`` and ``p2``. Every stage
registers its name, reports ``start:<name>`` / ``stop:<name>`` to a journal, and fails, finishes
or hangs when told to by a message. Tests run under virtual time, so the group's backoff and the
shutdown deadlines are observed exactly.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orrery
import pytest
import trio
from orrery.runtime._node import Node

pytestmark = pytest.mark.autojump

APP = Path(__file__).parent / "apps" / "tree"
PIPELINE = "sv:pipeline"


class Journal:
    """Reads the journal process's record through a Python mailbox."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.read = 0

    async def all(self) -> list[str]:
        async with self.node.mailbox() as me:
            await self.node.send("journal", "report", sender=me.pid)
            return list((await me.receive(timeout=5)).payload)

    async def new(self) -> list[str]:
        """The entries since the last call."""
        seen = await self.all()
        fresh, self.read = seen[self.read :], len(seen)
        return fresh


@asynccontextmanager
async def tree() -> AsyncIterator[tuple[Node, Journal]]:
    async with orrery.open_node([APP]) as node:
        await settle()  # the stages ran their first step: registered and reported
        yield node, Journal(node)


async def settle() -> None:
    """Let every immediate consequence happen (restarts take no virtual time).

    The pause is a binary fraction, so virtual times stay exact sums.
    """
    await trio.sleep(2**-10)


def pids(node: Node, *names: str) -> list[str | None]:
    return [node.lookup(n) for n in names]


async def test_tree_boots_in_order_and_stops_in_reverse(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "orrery.supervision")
    async with tree() as (node, journal):
        assert await journal.new() == ["start:reader", "start:p1", "start:p2", "start:writer"]
        services = {s.id: s for s in node.services()}
        assert "sv:parsers" not in services  # run by its parent, not by the node
        assert services["sv:io"].state == "running"  # a host of the tree: started first
        assert "@sv:io|" in str(node.lookup("writer"))
        assert "@sv:processes|" in str(node.lookup("reader"))
        assert (services[PIPELINE].kind, services[PIPELINE].state) == (
            "process.supervisor",
            "running",
        )
        info = node.supervisor_tree(PIPELINE)
        assert (info.id, info.state, info.strategy) == (PIPELINE, "running", "rest_for_one")
        assert [(c.id, c.kind, c.state, c.restarts) for c in info.children] == [
            ("reader", "process", "running", 0),
            ("parsers", "supervisor", "running", 0),
            ("writer", "process", "running", 0),
        ]
        assert [c.pid for c in info.children] == [
            *pids(node, "reader"),
            None,
            node.lookup("writer"),
        ]
        nested = node.supervisor_tree("sv:parsers")
        assert info.children[1].supervisor == nested
        assert (nested.id, nested.strategy) == ("sv:parsers", "one_for_all")
        assert [c.pid for c in nested.children] == pids(node, "p1", "p2")
        batch = node.supervisor_tree("sv:batch")
        assert batch.state == "registered"
        assert {c.state for c in batch.children} == {"registered"}
    stops = [m for m in caplog.messages if m.startswith("supervisor ") and m.endswith(" stopped")]
    assert stops == [
        "supervisor sv:pipeline: child writer stopped",
        "supervisor sv:parsers: child p2 stopped",
        "supervisor sv:parsers: child p1 stopped",
        "supervisor sv:pipeline: child parsers stopped",
        "supervisor sv:pipeline: child reader stopped",
    ]


async def test_nested_one_for_all_then_escalation_to_rest_for_one() -> None:
    async with tree() as (node, journal):
        await journal.new()
        reader, writer = pids(node, "reader", "writer")
        await node.send("p1", "crash")
        await settle()
        # parsers (one_for_all): p2 stopped, both started again; the pipeline saw nothing.
        assert await journal.new() == ["stop:p2", "start:p1", "start:p2"]
        assert pids(node, "reader", "writer") == [reader, writer]
        nested = node.supervisor_tree("sv:parsers")
        assert [(c.id, c.restarts, c.last_error is None) for c in nested.children] == [
            ("p1", 1, False),
            ("p2", 1, True),
        ]
        assert nested.recent_restarts == 1

        await trio.sleep(1)
        await node.send("p1", "crash")  # the second restart within 5s: parsers fails
        await settle()
        assert await journal.new() == [
            "stop:p2",  # parsers stops its children and fails
            "stop:writer",  # the pipeline (rest_for_one) stops the stages after parsers
            "start:p1",
            "start:p2",
            "start:writer",
        ]
        assert node.lookup("reader") == reader
        info = node.supervisor_tree(PIPELINE)
        parsers = info.children[1]
        assert (parsers.state, parsers.restarts) == ("running", 1)
        assert parsers.last_error == (
            "Unavailable: supervisor sv:parsers reached its restart intensity (1 in 5s)"
        )
        assert parsers.supervisor is not None and parsers.supervisor.recent_restarts == 0
        assert info.recent_restarts == 1
        assert node.supervisor.service(PIPELINE).state == "running"  # the group did not fail


async def test_intensity_fails_the_group_and_its_backoff_restarts_it() -> None:
    async with tree() as (node, journal):
        await journal.new()
        for _ in range(2):
            await node.send("reader", "crash")
            await settle()
        assert (
            await journal.new()
            == [
                *["stop:writer", "stop:p2", "stop:p1", "start:reader", "start:p1", "start:p2"],
                "start:writer",
            ]
            * 2
        )
        assert node.supervisor_tree(PIPELINE).recent_restarts == 2
        failed_at = trio.current_time()
        await node.send("reader", "crash")  # a third restart within 10s is one too many
        assert await node.supervisor.wait_state(PIPELINE, "failed") == "failed"
        assert trio.current_time() == failed_at
        assert await journal.new() == ["stop:writer", "stop:p2", "stop:p1"]
        info = node.supervisor.service(PIPELINE)
        assert info.last_error == (
            "Unavailable: supervisor sv:pipeline reached its restart intensity (2 in 10s)"
        )
        assert node.supervisor_tree(PIPELINE).state == "failed"
        # The group's own lifecycle.restart: initial_delay 1s, no jitter.
        await node.supervisor.wait_state(PIPELINE, "running")
        assert trio.current_time() == failed_at + 1.0
        await settle()  # the new processes run their first step
        assert await journal.new() == ["start:reader", "start:p1", "start:p2", "start:writer"]
        info = node.supervisor.service(PIPELINE)
        assert (info.failures, info.restarts) == (1, 1)
        tree_info = node.supervisor_tree(PIPELINE)
        assert tree_info.recent_restarts == 0  # a new run has a fresh window
        assert [c.restarts for c in tree_info.children] == [0, 0, 0]


async def test_child_hanging_on_cancel_is_terminated_at_its_shutdown() -> None:
    async with tree() as (node, journal):
        await journal.new()
        await node.send("writer", "hang")
        await settle()
        started = trio.current_time()
        await node.stop_service(PIPELINE)
        assert trio.current_time() - started == 2.0  # writer's shutdown: 2s; the others at once
        assert await journal.new() == ["stop:p2", "stop:p1", "stop:reader"]
        info = node.supervisor_tree(PIPELINE)
        assert info.state == "stopped"
        assert {c.state for c in info.children} == {"stopped"}
        assert pids(node, "reader", "p1", "p2", "writer") == [None] * 4


@pytest.mark.parametrize(
    ("last_word", "state", "error"),
    [
        ("finish", "exited", None),
        ("fatal", "exited", "Invalid: child b1: b1 gave up"),
    ],
)
async def test_group_whose_children_are_done_exits(
    last_word: str, state: str, error: str | None
) -> None:
    """Transient and temporary children that are done end the group (OTP's auto_shutdown)."""
    async with tree() as (node, journal):
        await node.start_service("sv:batch")
        await node.supervisor.wait_state("sv:batch", "running")
        await settle()  # the children registered their names
        await node.send("b2", "crash")  # temporary: not restarted
        await settle()
        assert node.supervisor.service("sv:batch").state == "running"
        await node.send("b1", last_word)  # transient: a normal or final exit is not restarted
        assert await node.supervisor.wait_state("sv:batch", "exited", "failed") == state
        info = node.supervisor.service("sv:batch")
        assert info.last_error == error
        children = node.supervisor_tree("sv:batch").children
        assert [(c.id, c.state, c.restarts) for c in children] == [
            ("b1", "exited", 0),
            ("b2", "exited", 0),
        ]
        assert "start:b1" in await journal.all()


class _Restarts(logging.Handler):
    """Counts the child restarts logged by supervision groups."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if " restarted (" in record.getMessage():
            self.count += 1


async def test_crash_storm_of_two_thousand_lua_children(tmp_path: Path) -> None:
    """2,000 children fail at the same instant: each is restarted once, pings keep answering."""
    count = 2000
    children = "\n".join(f"      - {{id: c{i:04d}, process: storm:bomb}}" for i in range(count))
    (tmp_path / "_index.yaml").write_text(
        "namespace: storm.gen\n"
        "entries:\n"
        "  - name: swarm\n"
        "    kind: process.supervisor\n"
        "    host: storm:processes\n"
        "    intensity: 100000\n"
        "    period: 10s\n"
        "    lifecycle: {auto_start: true}\n"
        "    children:\n" + children + "\n"
    )
    logger = logging.getLogger("orrery.supervision")
    restarts = _Restarts()
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(restarts)
    try:
        async with orrery.open_node([APP.parent / "storm", tmp_path]) as node:
            answered_during_storm = 0
            async with node.mailbox() as me:
                await trio.sleep(1)  # every bomb goes off now
                n = 0
                while restarts.count < count:
                    n += 1
                    await node.send("pong", "ping", n, sender=me.pid)
                    assert (await me.receive(timeout=1)).payload == n
                    answered_during_storm += 0 < restarts.count < count
            info = node.supervisor_tree("storm.gen:swarm")
            assert trio.current_time() == 1.0  # everything happened at the same instant
            assert info.recent_restarts == count
            assert {(c.state, c.restarts) for c in info.children} == {("running", 1)}
            errors = {c.last_error for c in info.children}
            assert len(errors) == 1 and str(errors.pop()).endswith("bomb.lua:10: boom")
            assert node.supervisor.service("storm.gen:swarm").state == "running"
            # The ping process was answered all through the storm, not only after it.
            assert answered_during_storm >= 50
    finally:
        logger.removeHandler(restarts)
        logger.setLevel(level)
        logger.propagate = propagate
