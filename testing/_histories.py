"""Workflow histories as regression tests: save them, load them, replay them.

A history is what Temporal recorded of one workflow run. Replaying it against
the current Lua code proves that a code change is safe for executions already
in flight: code that would issue other commands than the recorded ones fails
with :class:`orrery.errors.NondeterminismError` naming the entry and the Lua
line. Histories come from three places: a test run (:func:`save_histories`),
a node's server (:func:`fetch_histories`), or ``temporal workflow show
--output json`` (:func:`load_histories` reads those files as well).
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from temporalio.client import WorkflowHistory

from ..hosts.temporal._replay import ReplayOutcome, replay
from ..runtime._errors import InvalidError, NondeterminismError
from ..runtime._node import Node, load

#: Separates the workflow ID from the run ID in a saved history's file name.
_RUN_SEPARATOR = "~"

PathLike = str | os.PathLike[str]


def _client(node: Node, client: str | None) -> Any:
    if node.temporal is None:
        raise InvalidError("this node has no temporal.client: it records no workflow histories")
    clients = node.temporal.router.clients
    if client is None:
        if len(clients) != 1:
            raise InvalidError(
                f"the node has {len(clients)} temporal clients; name one with client=..."
            )
        return next(iter(clients.values()))
    if client not in clients:
        raise InvalidError(f"no running temporal.client {client!r} (running: {sorted(clients)})")
    return clients[client]


async def fetch_histories(
    node: Node, query: str | None = None, *, client: str | None = None
) -> list[WorkflowHistory]:
    """The histories of the workflows a node's Temporal client can list (trio).

    Args:
        node: a running node with a ``temporal.client``.
        query: a Temporal visibility query (``"WorkflowType = 'app:order'"``,
            ``""`` for every workflow of the namespace); None takes the workflows
            on the task queues of the node's workers, so tests sharing one server
            see only their own.
        client: the ``temporal.client`` entry ID when the node has several.

    Returns:
        One history per workflow run, closed and running ones alike.
    """
    temporal = _client(node, client)
    if query is None:
        queues = sorted({w.task_queue for w in node.registry.workers()})
        query = " OR ".join(f"TaskQueue = '{q}'" for q in queues) or None

    async def fetch() -> list[WorkflowHistory]:
        return [
            await temporal.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
            async for wf in temporal.list_workflows(query)
        ]

    histories: list[WorkflowHistory] = await node.temporal.bridge.run(fetch)
    return histories


def _file_name(history: WorkflowHistory, taken: set[str]) -> str:
    stem = urllib.parse.quote(history.workflow_id, safe="")
    name = f"{stem}.json"
    if name in taken:  # another run of the same workflow
        run_id = history.events[
            0
        ].workflow_execution_started_event_attributes.original_execution_run_id
        name = f"{stem}{_RUN_SEPARATOR}{run_id or len(taken)}.json"
    taken.add(name)
    return name


async def save_histories(
    node: Node, folder: PathLike, query: str | None = None, *, client: str | None = None
) -> list[Path]:
    """Writes the histories of a node's workflows to ``folder`` (trio).

    Each history becomes ``<workflow id>.json`` (URL-quoted), in the same JSON
    shape as ``temporal workflow show --output json``: keep the folder with
    your tests and replay it with :func:`assert_replays` after every change.

    Args:
        node: a running node with a ``temporal.client``.
        folder: created if needed; existing files of the same names are replaced.
        query: a visibility query selecting the workflows (None: those on the
            task queues of the node's workers, see :func:`fetch_histories`).
        client: the ``temporal.client`` entry ID when the node has several.

    Returns:
        The files written.
    """
    histories = await fetch_histories(node, query, client=client)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written, taken = [], set[str]()
    for history in histories:
        path = target / _file_name(history, taken)
        path.write_text(history.to_json())
        written.append(path)
    return written


def _history_files(paths: Iterable[PathLike]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(path.glob("*.json"))
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidError(f"no history file or folder at {path}")
    return files


def load_histories(*paths: PathLike) -> list[WorkflowHistory]:
    """Reads histories from JSON files, or every ``*.json`` of folders.

    Both the files of :func:`save_histories` and those of ``temporal workflow
    show --output json -w <id> > <id>.json`` work; the workflow ID is the
    file name (without ``.json``).

    Raises:
        InvalidError: a path does not exist, or a file is not a history (the
            message names the file).
    """
    histories = []
    for file in _history_files(paths):
        workflow_id = urllib.parse.unquote(file.stem.split(_RUN_SEPARATOR)[0])
        try:
            histories.append(WorkflowHistory.from_json(workflow_id, file.read_text()))
        except (ValueError, json_format.ParseError) as exc:
            raise InvalidError(f"{file} is not a workflow history in JSON: {exc}") from None
    return histories


def _worker(registry: Any, worker: str | None) -> Any:
    workers = registry.of_kind("temporal.worker")
    if worker is None:
        if len(workers) != 1:
            names = ", ".join(w.id for w in workers) or "none"
            raise InvalidError(
                f"replaying needs the temporal.worker that ran the workflows: the app has "
                f"{names}; name one with worker=..."
            )
        return workers[0]
    return registry.require(worker, "temporal.worker")


def replay_histories(
    roots: PathLike | Sequence[PathLike],
    histories: Sequence[WorkflowHistory],
    *,
    overrides: Sequence[str] = (),
    worker: str | None = None,
) -> list[ReplayOutcome]:
    """Replays histories against the app's current Lua code.

    Plain synchronous code that runs an asyncio loop of its own: call it from
    a sync test, or from a trio test with ``await trio.to_thread.run_sync(...)``.

    Args:
        roots: the app directories (as for :func:`orrery.open_node`).
        histories: from :func:`load_histories` or :func:`fetch_histories`.
        overrides: registry overrides, as for the node that ran the workflows.
        worker: the ``temporal.worker`` entry ID; may be omitted when the app has one.

    Returns:
        One outcome per history, in order; ``outcome.error`` is None when the
        replay matched.
    """
    registry = load([roots] if isinstance(roots, (str, os.PathLike)) else list(roots), overrides)
    entry = _worker(registry, worker)
    return asyncio.run(replay(registry, histories, worker=entry.id, task_queue=entry.task_queue))


def assert_replays(
    roots: PathLike | Sequence[PathLike],
    histories: Sequence[WorkflowHistory] | PathLike,
    *,
    overrides: Sequence[str] = (),
    worker: str | None = None,
) -> None:
    """Checks that every history replays against the app's current Lua code.

    Args:
        roots: the app directories.
        histories: histories, or a folder or file to :func:`load_histories` from.
        overrides: registry overrides.
        worker: the ``temporal.worker`` entry ID; may be omitted when the app has one.

    Raises:
        NondeterminismError: some history no longer matches; the message lists
            each one with its entry and the Lua line (``file.lua:12``) of the
            command that diverged. ``.details["failures"]`` holds them all.
        InvalidError: there was no history to replay.
    """
    if isinstance(histories, (str, os.PathLike)):
        histories = load_histories(histories)
    if not histories:
        raise InvalidError("no workflow history to replay")
    outcomes = replay_histories(roots, histories, overrides=overrides, worker=worker)
    failures = [o.error for o in outcomes if o.error is not None]
    if not failures:
        return
    if len(failures) == 1:
        raise failures[0]
    lines = "\n".join(f"  {failure.message}" for failure in failures)
    raise NondeterminismError(
        f"{len(failures)} of {len(outcomes)} histories no longer replay:\n{lines}",
        details={"failures": [f.details for f in failures]},
    )
