"""The hand-written temporalio baseline of ``bench/temporal.py``.

Plain SDK code, in its own module because the SDK's workflow sandbox re-imports
the module that defines a workflow (and must not import orrery, trio or lupa).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="py_echo")
async def py_echo(x: int) -> int:
    """The trivial activity: returns its argument."""
    return x


@workflow.defn(name="PySequence")
class PySequence:
    """n sequential activities; returns the sum of the answers."""

    @workflow.run
    async def run(self, n: int) -> int:
        total = 0
        for i in range(1, n + 1):
            total += await workflow.execute_activity(
                py_echo, i, start_to_close_timeout=timedelta(minutes=10)
            )
        return total


@workflow.defn(name="PyTrivial")
class PyTrivial:
    """The trivial workflow: returns its argument."""

    @workflow.run
    async def run(self, x: int) -> int:
        return x
