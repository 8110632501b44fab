"""Code that never waits is stopped without harming its neighbours.

See docs/reference/semantics.md, "Execution".

The instruction budget is a native-host safeguard, so these cases are native only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orrery
import pytest

from ._support import NATIVE, dirs


@pytest.mark.parametrize(
    "entry",
    [
        "spin",
        "spin_in_pcall",
        "spin_in_coroutine",
        "spin_in_spawned",
        "pattern_exponential",
        "pattern_polynomial",
        "pattern_gmatch",
        "pattern_gsub_loop",
    ],
)
async def test_a_busy_loop_is_killed_with_step_budget_while_a_neighbour_answers(
    entry: str,
) -> None:
    """A loop that never waits fails with Internal 'step budget'; another process keeps serving."""
    async with orrery.open_node(dirs("native", "runaway")) as node:
        result = await node.call("t.runaway:cases", "runaway", NATIVE, entry)
    assert result["kind"] == "Internal"
    assert "step budget" in result["message"]
    assert result["pongs"] == [1, 2]
    assert result["neighbour"] == "stopped"


async def test_everyday_patterns_work_in_a_process() -> None:
    """match, gmatch, gsub with a function, trim and plain find give plain Lua's results."""
    async with orrery.open_node(dirs("native", "runaway")) as node:
        result = await node.call("t.runaway:pattern_normal_uses")
    assert result == {
        "k": "key",
        "v": "value",
        "words": ["the", "quick", "brown", "fox"],
        "up": "HELLO WORLD",
        "trimmed": "padded",
        "pos": [2, 2],
    }


async def test_unbounded_recursion_fails_only_that_process() -> None:
    """A stack overflow is an Internal error of the process; the neighbour keeps serving."""
    async with orrery.open_node(dirs("native", "runaway")) as node:
        result = await node.call("t.runaway:cases", "runaway", NATIVE, "recurse")
    assert result["kind"] == "Internal"
    assert "stack overflow" in result["message"]
    assert result["pongs"] == [1, 2]


async def test_a_busy_function_fails_its_call_and_the_node_keeps_serving() -> None:
    """A function that never waits fails the call with Internal; the next call on the node works."""
    async with orrery.open_node(dirs("native", "runaway")) as node:
        with pytest.raises(orrery.errors.InternalError, match="step budget"):
            await node.call("t.runaway:spin_fn")
        assert await node.call("t.runaway:cases", "runaway", NATIVE, "recurse")


@pytest.mark.parametrize("entry", ["tostring_raises", "tostring_not_a_string"])
async def test_a_raised_value_with_a_broken_tostring_fails_only_its_process(entry: str) -> None:
    """A raised table whose __tostring fails gives an Internal error; the node keeps serving."""
    async with orrery.open_node(dirs("native", "runaway")) as node:
        with pytest.raises(orrery.errors.InternalError):
            await node.call(f"t.runaway:{entry}")
        assert await node.call("t.runaway:cases", "runaway", NATIVE, "recurse")


def test_a_raised_value_whose_tostring_never_returns_is_stopped(tmp_path: Path) -> None:
    """A __tostring that loops forever is stopped like any runaway code: Internal, exit 1.

    Runs through the CLI in a subprocess, so a hang shows up as a timeout.
    """
    roots = [str(p) for p in dirs("native", "runaway")]
    args = [a for root in roots for a in ("--root", root)]
    done = subprocess.run(
        [sys.executable, "-m", "orrery", "call", *args, "t.runaway:tostring_loops"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=8,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert json.loads(done.stdout)["error"]["kind"] == "Internal"
