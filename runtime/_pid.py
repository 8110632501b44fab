"""PIDs as values: ``{node@host|id}`` (docs/design.md, "PIDs").

A PID is text on the wire and in Lua (``K.parse_pid`` in runtime/lua/kernel.lua splits it the
same way); Python code parses it once into a :class:`Pid` instead of slicing strings. The node
part is optional (``{host|id}``, the PIDs of the built-in hosts); the ID may contain ``@``.
Both sides are checked against the same golden vectors (tests/golden/pids.json).
"""

from __future__ import annotations

import attrs

from ._errors import InvalidError

__all__ = ["Pid"]


@attrs.frozen
class Pid:
    """A parsed PID.

    Attributes:
        node: the node (or, for a workflow, the temporal.client entry), ``None`` if absent.
        host: the host entry ID (a process.host, a temporal.worker, or a built-in host).
        id: the process's ID on that host (a workflow's ID for workflows).
    """

    node: str | None
    host: str
    id: str

    @classmethod
    def parse(cls, text: str) -> Pid:
        """Parses ``text``.

        Raises:
            InvalidError: ``text`` is not of the form ``{node@host|id}`` or ``{host|id}``.
        """
        pid = cls.try_parse(text)
        if pid is None:
            raise InvalidError(f"{text!r} is not a PID (expected {{node@host|id}})")
        return pid

    @classmethod
    def try_parse(cls, text: object) -> Pid | None:
        """Parses ``text``, or returns ``None`` when it is not a PID."""
        if not isinstance(text, str) or len(text) < 3 or text[0] != "{" or text[-1] != "}":
            return None
        bar = text.find("|", 1)
        if bar < 0:
            return None
        left = text[1:bar]
        node, at, host = left.partition("@")
        if not at:
            node, host = "", left
        return cls(node if at else None, host, text[bar + 1 : -1])

    def __str__(self) -> str:
        if self.node is None:
            return f"{{{self.host}|{self.id}}}"
        return f"{{{self.node}@{self.host}|{self.id}}}"
