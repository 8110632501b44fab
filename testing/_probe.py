"""A probe: a Python-side process that a test talks through and asserts on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from ..hosts._native import ExitResult, Mailbox, MailboxItem
from ..runtime._errors import ExpectationFailed, OrreryError
from ..runtime._node import Node

#: How long :meth:`Probe.expect` and :meth:`Probe.expect_exit` wait by default (seconds).
DEFAULT_TIMEOUT = 1.0


def _show(item: MailboxItem) -> str:
    return f"{item.topic!r} from {item.sender} with payload {item.payload!r}"


class Probe:
    """A PID with a mailbox for tests: send from it, then expect what comes back.

    Obtain one with :meth:`Probe.open` (or the ``probe`` fixture). Under virtual
    time (``@pytest.mark.autojump``) a timeout costs no real time: when nothing
    else can happen, the clock jumps straight to it.

    Attributes:
        node: the node the probe lives on.
        mailbox: the underlying :class:`orrery.Mailbox`.
    """

    def __init__(self, node: Node, mailbox: Mailbox) -> None:
        self.node = node
        self.mailbox = mailbox
        self._other_exits: list[MailboxItem] = []
        self._monitored: set[str] = set()

    @classmethod
    @asynccontextmanager
    async def open(cls, node: Node) -> AsyncIterator[Probe]:
        """A new probe on ``node``; its PID is released when the block ends."""
        async with node.mailbox() as box:
            yield cls(node, box)

    @property
    def pid(self) -> str:
        """The probe's PID: processes reply to it with ``process.send(pid, ...)``."""
        return self.mailbox.pid

    async def send(self, dest: str, topic: str, *values: Any) -> None:
        """Sends a message to ``dest`` with the probe as its sender (``msg:from()``)."""
        await self.node.send(dest, topic, *values, sender=self.pid)

    async def spawn(self, entry: str, host: str, *args: Any, **options: Any) -> str:
        """Spawns a process on a native host, watched by the probe from its first step.

        Use it instead of ``node.spawn`` when the test will call
        :meth:`expect_exit`: the end is recorded even if the process finishes
        before the test gets there. Options are those of :meth:`orrery.Node.spawn`.

        Returns:
            The new PID.
        """
        pid = await self.node.spawn(entry, host, *args, **options)
        self.mailbox.monitor(pid)  # no checkpoint since the spawn: the process has not run yet
        self._monitored.add(pid)
        return pid

    async def expect(self, topic: str, timeout: float = DEFAULT_TIMEOUT) -> MailboxItem:
        """Waits for the next message and checks its topic.

        Args:
            topic: the topic the next message must have.
            timeout: seconds to wait (virtual seconds under autojump).

        Returns:
            The message (``.payload``, ``.sender``, ``.topic``).

        Raises:
            ExpectationFailed: no message came in time, or the next one had
                another topic (the message says which, from whom, with what).
        """
        try:
            item = await self.mailbox.receive(timeout=timeout)
        except trio.TooSlowError:
            raise ExpectationFailed(
                f"probe {self.pid} expected a message {topic!r} within {timeout} s; none arrived"
            ) from None
        if item.topic != topic:
            raise ExpectationFailed(
                f"probe {self.pid} expected a message {topic!r}, got {_show(item)}"
            )
        return item

    async def expect_no_message(self, within: float = DEFAULT_TIMEOUT) -> None:
        """Checks that no message arrives for ``within`` seconds.

        Raises:
            ExpectationFailed: a message arrived (the message names it).
        """
        with trio.move_on_after(within):
            item = await self.mailbox.receive()
            raise ExpectationFailed(f"probe {self.pid} expected no message, got {_show(item)}")

    async def expect_exit(self, pid: str, timeout: float = DEFAULT_TIMEOUT) -> ExitResult:
        """Waits for a process or a workflow to end.

        Args:
            pid: a process spawned with :meth:`spawn` (ended or not), any live
                process of this node's native hosts, or a workflow (ended or not;
                the probe watches it now).
            timeout: seconds to wait for the end (virtual under autojump).

        Returns:
            How it ended: ``.value`` on success, ``.error`` (kind, message) on
            failure; :meth:`ExitResult.unwrap` raises the error.

        Raises:
            ExpectationFailed: the process is not alive (so its end cannot be
                observed) or did not end within ``timeout``.
        """
        for index, item in enumerate(self._other_exits):
            if item.sender == pid:
                del self._other_exits[index]
                self._monitored.discard(pid)
                return _exit_result(pid, item)
        try:
            if pid not in self._monitored:
                await self.mailbox.watch(pid)
                self._monitored.add(pid)
        except OrreryError as exc:
            raise ExpectationFailed(
                f"probe {self.pid} cannot watch {pid} end: {exc.message} "
                "(spawn it with probe.spawn to observe its end at any time)"
            ) from None
        deadline = trio.current_time() + timeout
        while True:
            try:
                item = await self.mailbox.next_event(
                    timeout=max(0.0, deadline - trio.current_time())
                )
            except trio.TooSlowError:
                raise ExpectationFailed(
                    f"probe {self.pid} expected {pid} to end within {timeout} s; "
                    "it is still running"
                ) from None
            if item.topic == "pid.exit" and item.sender == pid:
                self._monitored.discard(pid)
                return _exit_result(pid, item)
            self._other_exits.append(item)  # another process's end: kept for a later wait


def _exit_result(pid: str, item: MailboxItem) -> ExitResult:
    result = (item.payload or {}).get("result") or {}
    return ExitResult(pid=pid, value=result.get("value"), error=result.get("error"))
