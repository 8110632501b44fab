"""Replaying recorded workflow histories against the current Lua code.

A history recorded from a real run is replayed with the SDK's ``Replayer``,
through the same dynamic workflow and interceptors a worker uses. Code that
no longer matches the history fails with :class:`NondeterminismError` naming
the entry and the Lua line of the command that diverged.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import temporalio.client
import temporalio.worker

from ...runtime._errors import NondeterminismError
from ._converter import DATA_CONVERTER
from ._workflow import LuaWorkflow, WorkerContext, WorkerInterceptor, worker_context

if TYPE_CHECKING:
    from ...runtime._registry import Registry


@attrs.frozen
class ReplayOutcome:
    """The result of replaying one history.

    Attributes:
        workflow_id: the workflow the history belongs to.
        error: ``None`` when the replay matched the history.
    """

    workflow_id: str
    error: NondeterminismError | None


def context_for(registry: Registry, worker_id: str, task_queue: str) -> WorkerContext:
    """The workflow context the worker would use, built from a registry.

    Its Lua state has the registry's ``lua_memory_limit``, as a worker's has.
    """
    return worker_context(registry, worker_id, task_queue=task_queue)


async def replay(
    registry: Registry,
    histories: Sequence[temporalio.client.WorkflowHistory],
    *,
    worker: str,
    task_queue: str,
) -> list[ReplayOutcome]:
    """Replays histories (asyncio); one outcome per history, in order."""
    context = context_for(registry, worker, task_queue)
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="orrery-replay")
    try:
        replayer = temporalio.worker.Replayer(
            workflows=[LuaWorkflow],
            interceptors=[WorkerInterceptor(context)],
            data_converter=DATA_CONVERTER,
            workflow_runner=temporalio.worker.UnsandboxedWorkflowRunner(),
            workflow_task_executor=executor,
        )
        outcomes = []
        for history in histories:
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            error = None
            if result.replay_failure is not None:
                error = _diagnose(context, history, result.replay_failure)
            outcomes.append(ReplayOutcome(history.workflow_id, error))
        return outcomes
    finally:
        executor.shutdown(wait=False)


def _diagnose(context: WorkerContext, history: Any, failure: Exception) -> NondeterminismError:
    last = context.last_command.get(history.workflow_id)
    where = last[2] if last else "?"
    entry = None
    for event in history.events:
        attrs_ = event.workflow_execution_started_event_attributes
        if attrs_.workflow_type.name:
            entry = context.types.get(attrs_.workflow_type.name, attrs_.workflow_type.name)
            break
    what = f"{last[0]} {last[1]}" if last else "a command"
    error = NondeterminismError(
        f"{entry or 'workflow'} {history.workflow_id} no longer matches its history at {where} "
        f"({what}): {failure}",
        details={"entry": entry, "lua_location": where},
    )
    error.entry = entry
    error.lua_location = where
    return error
