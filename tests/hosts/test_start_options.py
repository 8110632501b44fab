"""Start options reach Temporal: checked on the start request the server recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orrery
import trio
from orrery.hosts.temporal._services import worker_kwargs

APPS = Path(__file__).parent.parent / "conformance" / "apps"
IN_MEMORY = ['app:temporal:dev_server.database_file=":memory:"']


async def test_cron_schedule_is_part_of_the_start_request() -> None:
    dirs = [APPS / "base-native", APPS / "base-temporal", Path(__file__).parent / "apps" / "cron"]
    async with orrery.open_node(dirs, IN_MEMORY) as node:
        with trio.fail_after(60):
            pid = await node.call("cron:start", "0 */6 * * *")
            assert pid == "{app:temporal@app:worker|cron-demo}"
            client = node.temporal.router.clients["app:temporal"]

            async def started() -> Any:
                history = await client.get_workflow_handle("cron-demo").fetch_history()
                return history.events[0].workflow_execution_started_event_attributes

            attrs = await node.temporal.bridge.run(started)
            await node.terminate(pid)
    assert attrs.cron_schedule == "0 */6 * * *"
    assert attrs.workflow_type.name == "cron:tick"


def test_worker_options_map_to_sdk_worker_parameters() -> None:
    kwargs = worker_kwargs(
        {
            "max_concurrent_workflow_task_execution_size": 50,
            "max_concurrent_activity_task_pollers": 4,
            "worker_activities_per_second": 0,
            "task_queue_activities_per_second": 20,
            "local_activity_worker_only": True,
            "worker_stop_timeout": 0,
        },
        stop_timeout=7.0,
    )
    assert kwargs["max_concurrent_workflow_tasks"] == 50
    assert kwargs["max_concurrent_activity_task_polls"] == 4
    assert "max_activities_per_second" not in kwargs  # 0 leaves the SDK default
    assert kwargs["max_task_queue_activities_per_second"] == 20.0
    assert kwargs["no_remote_activities"] is True
    assert kwargs["graceful_shutdown_timeout"].total_seconds() == 7.0  # 0s: the lifecycle's


async def test_python_spawn_passes_start_options_like_with_options() -> None:
    dirs = [APPS / "base-native", APPS / "base-temporal", Path(__file__).parent / "apps" / "cron"]
    async with orrery.open_node(dirs, IN_MEMORY) as node:
        with trio.fail_after(60):
            pid = await node.spawn(
                "cron:tick",
                "app:worker",
                name="from-python",
                options={"temporal.workflow.cron_schedule": "*/5 * * * *"},
            )
            client = node.temporal.router.clients["app:temporal"]

            async def started() -> Any:
                history = await client.get_workflow_handle("from-python").fetch_history()
                return history.events[0].workflow_execution_started_event_attributes

            attrs = await node.temporal.bridge.run(started)
            await node.terminate(pid)
    assert attrs.cron_schedule == "*/5 * * * *"
