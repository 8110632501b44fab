"""What the observer (``orrery ps`` / ``inspect``) shows of workflows.

Workflows are not in the node's memory: they are listed and described through the
Temporal client of each ``temporal.worker`` (its task queue), on the asyncio thread.
Each record carries the Web UI link of the workflow when the client's embedded dev
server serves the UI (``dev_server.ui``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import temporalio.client

from ...runtime._errors import error_for
from ...runtime._pid import Pid
from ._router import rpc_error
from ._workflow import DROPPED_MEMO

if TYPE_CHECKING:
    from ._services import TemporalHost

#: How many running workflows ``ps`` lists per worker at most.
LIST_LIMIT = 200


def workflow_link(ui: str | None, namespace: str, workflow_id: str, run_id: str) -> str | None:
    """The Web UI page of one workflow run, or ``None`` without a UI address."""
    if not ui:
        return None
    return (
        f"{ui}/namespaces/{quote(namespace, safe='')}/workflows/"
        f"{quote(workflow_id, safe='')}/{quote(run_id, safe='')}/history"
    )


def _record(
    host: TemporalHost, worker: str, client_id: str, execution: temporalio.client.WorkflowExecution
) -> dict[str, Any]:
    entries = {name: entry for entry, name in host.router.type_names.get(worker, {}).items()}
    status = execution.status.name.lower() if execution.status is not None else "unknown"
    start = execution.start_time.isoformat() if execution.start_time else None
    return {
        "pid": str(Pid(client_id, worker, execution.id)),
        "entry": entries.get(execution.workflow_type, execution.workflow_type),
        "host": worker,
        "status": status,
        "workflow_id": execution.id,
        "run_id": execution.run_id,
        "task_queue": execution.task_queue,
        "started": start,
        "history_length": execution.history_length,
        "ui": workflow_link(
            host.ui_addresses.get(client_id), execution.namespace, execution.id, execution.run_id
        ),
    }


async def list_workflows(host: TemporalHost) -> list[dict[str, Any]]:
    """The running workflows on the task queue of every running worker (asyncio side)."""
    out: list[dict[str, Any]] = []
    for worker, (client_id, queue) in sorted(host.router.workers.items()):
        client = host.router.clients.get(client_id)
        if client is None:
            continue
        query = f"TaskQueue = '{queue}' AND ExecutionStatus = 'Running'"
        try:
            async for execution in client.list_workflows(query, limit=LIST_LIMIT):
                out.append(_record(host, worker, client_id, execution))
        except Exception as exc:
            raise rpc_error(exc) from None
    out.sort(key=lambda r: r["pid"])
    return out


async def describe_workflow(host: TemporalHost, pid: str) -> dict[str, Any]:
    """One workflow by PID, whatever its status (asyncio side).

    Raises:
        NotFound: the PID names no worker of this node, or Temporal has no such workflow.
        Unavailable: the worker's client is not running.
    """
    parsed = Pid.try_parse(pid)
    worker = parsed.host if parsed is not None else ""
    if parsed is None or worker not in host.router.workers:
        raise error_for("NotFound", f"{pid} names no temporal.worker of this node")
    client_id, _ = host.router.workers[worker]
    client = host.router.clients.get(client_id)
    if client is None:
        raise error_for("Unavailable", f"temporal client {client_id} is not running")
    try:
        description = await client.get_workflow_handle(parsed.id).describe()
    except Exception as exc:
        raise rpc_error(exc) from None
    record = _record(host, worker, client_id, description)
    record["closed"] = description.close_time.isoformat() if description.close_time else None
    # signals the workflow dropped (docs/guide.md, "Signals that cannot be decoded")
    try:
        record["dropped_signals"] = await description.memo_value(DROPPED_MEMO, 0)
    except Exception:  # a memo value another client wrote that does not decode
        record["dropped_signals"] = None
    return record
