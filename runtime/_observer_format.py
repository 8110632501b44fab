"""Readable renderings of observer snapshots (``orrery ps``, ``tree``, ``inspect``).

Each function takes the ``result`` of one control operation (see
``_observer_snapshot``) and returns the text to print, ending with a newline.
Every value is shown with its control characters escaped (``_escape``): names, topics,
entry IDs and error messages come from Lua and must not add lines or reach the terminal
as escape sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._escape import escape_controls

#: Shown in a cell that has no value.
NONE = "-"


def _cell(value: Any) -> str:
    return NONE if value is None else escape_controls(str(value))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces; trailing blanks stripped."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"


def _names(names: Sequence[str]) -> str:
    return ",".join(names) if names else NONE


def format_ps(snapshot: dict[str, Any]) -> str:
    """The process table, then the running workflows (with their Web UI links)."""
    processes = snapshot.get("processes") or []
    out = table(
        ("PID", "ENTRY", "HOST", "STATE", "MAILBOX", "LINKS", "MONITORS", "NAME"),
        [
            (
                p["pid"],
                p["entry"],
                p["host"],
                p["state"],
                p["mailbox"],
                len(p["links"]),
                len(p["monitors"]),
                _names(p["names"]),
            )
            for p in processes
        ],
    )
    workflows = snapshot.get("workflows") or []
    if workflows:
        out += "\n" + table(
            ("WORKFLOW", "ENTRY", "HOST", "STATUS", "STARTED", "UI"),
            [
                (w["pid"], w["entry"], w["host"], w["status"], w["started"], w["ui"])
                for w in workflows
            ],
        )
    if snapshot.get("workflows_error"):
        out += f"\nworkflows could not be listed: {_cell(snapshot['workflows_error'])}\n"
    return out


def _service_line(service: dict[str, Any]) -> str:
    parts = [service["id"], f"({service['kind']})", service["state"]]
    if service.get("pid"):
        parts.append(service["pid"])
    parts.append(f"restarts={service['restarts']}")
    if service.get("failures"):
        parts.append(f"failures={service['failures']}")
    if service.get("ui"):
        parts.append(f"ui={service['ui']}")
    if service.get("last_error"):
        parts.append(f"last error: {service['last_error']}")
    return escape_controls(" ".join(str(part) for part in parts))


def _children(group: dict[str, Any], prefix: str) -> list[str]:
    lines = []
    children = group.get("children") or []
    for index, child in enumerate(children):
        last = index == len(children) - 1
        parts = [child["id"], f"({child['kind']})", child["state"]]
        if child.get("pid"):
            parts.append(child["pid"])
        parts.append(f"restarts={child['restarts']}")
        nested = child.get("supervisor")
        if nested is not None:
            parts.append(f"strategy={nested['strategy']}")
        if child.get("last_error"):
            parts.append(f"last error: {child['last_error']}")
        line = escape_controls(" ".join(str(part) for part in parts))
        lines.append(prefix + ("└─ " if last else "├─ ") + line)
        if nested is not None:
            lines += _children(nested, prefix + ("   " if last else "│  "))
    return lines


def format_tree(snapshot: dict[str, Any]) -> str:
    """Every service on one line; a supervisor's children indented below it."""
    lines = []
    for service in snapshot.get("services") or []:
        line = _service_line(service)
        group = service.get("supervisor")
        if group is not None:
            line += escape_controls(
                f" strategy={group['strategy']} recent_restarts={group['recent_restarts']}"
            )
        lines.append(line)
        if group is not None:
            lines += _children(group, "")
    if not lines:
        lines.append("no services")
    return "\n".join(lines) + "\n"


_PROCESS_FIELDS = (
    ("pid", "PID"),
    ("entry", "entry"),
    ("host", "host"),
    ("state", "state"),
    ("service", "service"),
    ("names", "names"),
    ("mailbox", "mailbox"),
    ("links", "links"),
    ("monitors", "monitors"),
    ("monitored_by", "monitored by"),
    ("coroutines", "coroutines"),
    ("listening", "listening to"),
    ("traps_links", "traps links"),
)

_WORKFLOW_FIELDS = (
    ("pid", "PID"),
    ("entry", "entry"),
    ("host", "host"),
    ("status", "status"),
    ("workflow_id", "workflow ID"),
    ("run_id", "run ID"),
    ("task_queue", "task queue"),
    ("started", "started"),
    ("closed", "closed"),
    ("history_length", "history length"),
    ("dropped_signals", "bad signals"),
    ("ui", "Web UI"),
)


def _value(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return escape_controls(", ".join(str(v) for v in value)) if value else NONE
    return escape_controls(str(value))


def format_inspect(record: dict[str, Any]) -> str:
    """One ``label: value`` line per field of a process or workflow."""
    fields = _WORKFLOW_FIELDS if record.get("kind") == "workflow" else _PROCESS_FIELDS
    shown = [(label, _value(record.get(key))) for key, label in fields if key in record]
    width = max(len(label) for label, _ in shown)
    return "".join(f"{(label + ':').ljust(width + 1)} {value}\n" for label, value in shown)
