"""Snapshots of a running node for the observer, as plain JSON-ready values.

These are the ``result`` values of the control socket's operations (see
``_observer_protocol``) and what ``orrery ps / tree / inspect --json`` print.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ..supervision import GroupInfo
from ._errors import OrreryError, error_for

if TYPE_CHECKING:
    from ._node import Node


def _is_pid(text: str) -> bool:
    return text.startswith("{") and text.endswith("}") and "|" in text and "@" in text


def _group(info: GroupInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "state": str(info.state),
        "strategy": str(info.strategy),
        "recent_restarts": info.recent_restarts,
        "children": [
            {
                "id": child.id,
                "kind": child.kind,
                "state": str(child.state),
                "pid": child.pid,
                "restarts": child.restarts,
                "last_error": child.last_error,
                "supervisor": None if child.supervisor is None else _group(child.supervisor),
            }
            for child in info.children
        ],
    }


def _ui_addresses(node: Node) -> dict[str, str]:
    temporal = node.temporal
    return dict(temporal.ui_addresses) if temporal is not None else {}


def info(node: Node) -> dict[str, Any]:
    """The node itself: name, OS process, state dir, Web UI addresses."""
    return {
        "node": node.registry.config.node_name,
        "os_pid": os.getpid(),
        "state_dir": str(getattr(node, "state_dir", "")),
        "time": time.time(),
        "temporal_ui": _ui_addresses(node),
    }


async def ps(node: Node) -> dict[str, Any]:
    """Every live native process, and the running workflows of the node's workers.

    A failure to list workflows (Temporal unreachable) does not hide the processes: it
    is reported in ``workflows_error``.
    """
    workflows: list[dict[str, Any]] = []
    error = None
    if node.temporal is not None:
        try:
            workflows = await node.temporal.workflows()
        except OrreryError as exc:
            error = f"{exc.kind}: {exc.message}"
    return {
        "node": node.registry.config.node_name,
        "processes": node.native.processes(),
        "workflows": workflows,
        "workflows_error": error,
    }


def tree(node: Node) -> dict[str, Any]:
    """Every service in start order with its state and restarts; supervisors with their tree."""
    ui = _ui_addresses(node)
    services = []
    for service in node.services():
        record: dict[str, Any] = {
            "id": service.id,
            "kind": service.kind,
            "state": str(service.state),
            "pid": service.pid,
            "restarts": service.restarts,
            "failures": service.failures,
            "last_error": service.last_error,
            "supervisor": None,
            "ui": ui.get(service.id),
        }
        if service.kind == "process.supervisor":
            record["supervisor"] = _group(node.supervisor_tree(service.id))
        services.append(record)
    return {"node": node.registry.config.node_name, "services": services}


def _owner(node: Node, pid: str) -> str | None:
    """The service or supervisor child that runs ``pid``, as ``service`` or ``sup/child``."""
    for service in tree(node)["services"]:
        if service["pid"] == pid:
            return str(service["id"])
        stack = [(str(service["id"]), service["supervisor"])]
        while stack:
            path, group = stack.pop()
            for child in (group or {}).get("children", ()):
                if child["pid"] == pid:
                    return f"{path}/{child['id']}"
                stack.append((f"{path}/{child['id']}", child["supervisor"]))
    return None


async def inspect(node: Node, target: str) -> dict[str, Any]:
    """One process (by PID or registered name) or one workflow (by PID).

    Raises:
        NotFound: no live process has that PID or name, and it is no workflow of this node.
    """
    record = node.native.process_info(target)
    if record is not None:
        record["kind"] = "process"
        record["service"] = _owner(node, record["pid"])
        return record
    if node.temporal is not None and _is_pid(target) and node._pid_on_worker(target):
        workflow: dict[str, Any] = await node.temporal.workflow(target)
        workflow["kind"] = "workflow"
        return workflow
    what = "PID" if _is_pid(target) else "registered name"
    raise error_for("NotFound", f"no live process has the {what} {target} on this node")
