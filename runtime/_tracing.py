"""OpenTelemetry spans for process spawn, exit, message send and restarts (optional).

Tracing needs ``opentelemetry-api`` (``pip install 'orrery[otel]'``). Without it,
nothing here imports it and the native host does not report anything: the only cost
is one nil check per spawn, exit and send in Lua.

Spans (all from the tracer named ``orrery``):

* ``orrery.process``: from spawn to exit of a native process; its parent is the
  spawner's ``orrery.process`` span. Attributes ``orrery.pid``, ``orrery.entry``,
  ``orrery.host``, ``orrery.node``; on failure the status is ERROR with
  ``orrery.error.kind`` and ``orrery.error.message``.
* ``orrery.send``: one message between native processes, a child of the sender's
  process span. Attributes ``orrery.from``, ``orrery.to``, ``orrery.topic``.
* ``orrery.restart``: a service or supervisor child started again after it ended.
  Attributes ``orrery.service``, ``orrery.child`` (supervisor children),
  ``orrery.restarts`` and ``orrery.error``.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def otel_installed() -> bool:
    """Whether ``opentelemetry-api`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except (ModuleNotFoundError, ValueError):  # ValueError: blocked in sys.modules
        return False


class Tracer:
    """Turns native host events and supervisor restarts into OpenTelemetry spans.

    Args:
        node: the node name (``orrery.node`` attribute).
        provider: a ``TracerProvider``; the global one when ``None``.
    """

    def __init__(self, node: str, provider: Any = None) -> None:
        from opentelemetry import trace  # noqa: PLC0415 - optional dependency

        self._trace = trace
        self._tracer = trace.get_tracer("orrery", tracer_provider=provider)
        self._node = node
        self._spans: dict[str, Any] = {}

    def _context(self, pid: str | None) -> Any:
        span = self._spans.get(pid) if pid else None
        return self._trace.set_span_in_context(span) if span is not None else None

    def lua_event(self, event: str | None, a: Any, b: Any, c: Any, d: Any) -> None:
        """One event reported by the native host (see ``NativeRuntime.set_tracer``)."""
        if event == "spawn":
            self.spawn(a, b, c, d)
        elif event == "exit":
            self.exit(a, b, c)
        elif event == "send":
            self.send(a, b, c)

    def spawn(self, pid: str, entry: str, host: str, parent: str | None) -> None:
        """Opens the ``orrery.process`` span of ``pid``."""
        self._spans[pid] = self._tracer.start_span(
            "orrery.process",
            context=self._context(parent),
            attributes={
                "orrery.pid": pid,
                "orrery.entry": entry,
                "orrery.host": host,
                "orrery.node": self._node,
            },
        )

    def exit(self, pid: str, kind: str | None, message: str | None) -> None:
        """Ends the span of ``pid`` (a process not seen spawning has none)."""
        span = self._spans.pop(pid, None)
        if span is None:
            return
        if kind is not None:
            span.set_attribute("orrery.error.kind", kind)
            span.set_attribute("orrery.error.message", message or "")
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, f"{kind}: {message}"))
        span.end()

    def send(self, sender: str | None, dest: str, topic: str) -> None:
        """Records one message as a zero-length ``orrery.send`` span."""
        attributes = {"orrery.to": dest, "orrery.topic": topic}
        if sender:
            attributes["orrery.from"] = sender
        self._tracer.start_span(
            "orrery.send", context=self._context(sender), attributes=attributes
        ).end()

    def restart(self, service: str, child: str | None, restarts: int, error: str | None) -> None:
        """Records a restart of a service (``child`` None) or of a supervisor's child."""
        attributes: dict[str, Any] = {"orrery.service": service, "orrery.restarts": restarts}
        if child is not None:
            attributes["orrery.child"] = child
        if error is not None:
            attributes["orrery.error"] = error
        self._tracer.start_span("orrery.restart", attributes=attributes).end()

    def close(self) -> None:
        """Ends the spans of processes still alive (the node stops)."""
        spans, self._spans = self._spans, {}
        for span in spans.values():
            span.end()
