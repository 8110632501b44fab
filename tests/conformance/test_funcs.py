"""funcs.call and function frames.

See docs/reference/lua-modules.md, "funcs"; docs/reference/semantics.md, "Function frames".
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ._support import NATIVE, run_case


async def run(case: str, *args: object) -> Any:
    return await run_case("funcs", case, *args)


async def test_call_returns_the_function_value() -> None:
    """funcs.call and an executor's call return the function's first result."""
    assert await run("value") == {"call": 5, "executor": 9}


async def test_a_returned_error_reaches_the_caller_intact() -> None:
    """nil, err from the function gives the caller nil and the same kind, message, flags."""
    assert await run("returned_error") == {
        "returned_nil": True,
        "kind": "Conflict",
        "message": "taken",
        "retryable": False,
        "details": {"id": 7},
    }


async def test_a_returned_string_error_is_internal_with_retryable_nil() -> None:
    """nil, "text" becomes Internal "text" with retryable unspecified."""
    assert await run("text_error") == {
        "returned_nil": True,
        "kind": "Internal",
        "message": "plain text",
    }


async def test_a_value_with_an_error_is_a_failure_and_a_value_with_nil_a_success() -> None:
    """v, err fails with err (v discarded); v, nil succeeds with v."""
    assert await run("value_and_error") == {
        "returned_nil": True,
        "kind": "Unavailable",
        "message": "value and error",
    }
    assert await run("value_and_nil") == {"value": "kept"}


async def test_a_raised_error_is_internal_and_names_the_file_and_line() -> None:
    """error("kaboom") in a function gives Internal with 'raiser.lua:2: kaboom'."""
    result = await run("raised_error")
    assert result["kind"] == "Internal"
    assert re.search(r"raiser\.lua:2: kaboom$", result["message"]), result["message"]


async def test_calling_a_missing_entry_is_not_found() -> None:
    """A target that is not in the registry gives NotFound."""
    result = await run("missing")
    assert (result["returned_nil"], result["kind"]) == (True, "NotFound")


@pytest.mark.parametrize("case", ["malformed", "process_entry", "unknown_option"])
async def test_bad_targets_and_options_are_invalid(case: str) -> None:
    """A target without namespace, a process.lua target or an unknown option gives Invalid."""
    result = await run(case)
    assert (result["returned_nil"], result["kind"]) == (True, "Invalid")


@pytest.mark.autojump
async def test_a_call_timeout_gives_timeout_and_terminates_the_frame() -> None:
    """With {timeout = "100ms"} the caller gets Timeout and the callee frame ends as a failure."""
    assert await run("timeout") == {
        "returned_nil": True,
        "kind": "Timeout",
        "waited_100ms": True,
        "frame_monitored": True,
        "frame_ended": True,
        "frame_failed": True,
    }


@pytest.mark.autojump
async def test_a_numeric_call_timeout_is_milliseconds() -> None:
    """{timeout = 50} bounds the call at 50 ms (not 50 ns or 50 s)."""
    assert await run("timeout_ms") == {"returned_nil": True, "kind": "Timeout"}


@pytest.mark.autojump
async def test_a_frame_is_terminated_when_its_caller_dies() -> None:
    """If the caller dies while waiting, the callee frame ends (as a failure)."""
    assert await run("caller_dies", NATIVE) == {"from_frame": True, "failed": True}


async def test_a_child_started_with_exec_outlives_its_caller() -> None:
    """process.exec does not link: terminating the caller leaves the child running."""
    assert await run("exec_child_survives", NATIVE) == {
        "caller_ended_first": True,
        "child_still_alive": True,
        "child_value": "went",
    }


async def test_each_call_gets_a_fresh_environment() -> None:
    """Globals and top-level state of one call are not seen by the next call."""
    fresh = {"calls": 1, "global": 1}
    assert await run("fresh_environment") == [fresh, fresh]


async def test_each_call_runs_as_a_frame_with_a_pid_on_orrery_functions() -> None:
    """A function has its own PID {node@orrery:functions|0x...}, new for every call."""
    assert await run("frame_pids", NATIVE) == {
        "frame_pid_shape": True,
        "distinct": True,
        "caller_is_a_frame": True,
        "from_process": True,
    }


async def test_a_frame_can_spawn_send_and_receive() -> None:
    """A function frame uses the whole process API: spawn_monitored, send, listen, events."""
    assert await run("frame_uses_process_api", NATIVE) == {
        "reply": "from a frame",
        "child_exit": "echoed",
    }


async def test_call_arguments_are_copied() -> None:
    """The callee changing its argument does not change the caller's table."""
    assert await run("arguments_copied") == {"mine": "original", "theirs": "changed by callee"}
