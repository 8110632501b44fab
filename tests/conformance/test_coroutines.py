"""Coroutines inside a process.

See docs/reference/lua-modules.md, "Coroutines"; docs/reference/semantics.md, "Outcomes".
"""

from __future__ import annotations

from typing import Any

from ._support import run_on_host


async def result(host: str, entry: str) -> Any:
    return await run_on_host("coro", "result", host, entry)


async def test_runnable_coroutines_resume_in_fifo_order(host: str) -> None:
    """coroutine.spawn runs coroutines in the order they became runnable."""
    assert await result(host, "fifo") == {
        "value": ["main", "start1", "start2", "start3", "woke3", "woke1", "woke2"]
    }


async def test_blocking_calls_work_inside_user_coroutines(host: str) -> None:
    """Channel receive, time.sleep and funcs.call work inside coroutine.create/resume."""
    assert await result(host, "user_coroutine") == {
        "value": [True, "tag:42", "suspended", True, "finished with reply", "dead"]
    }


async def test_errors_after_blocking_calls_stay_inside_resume_and_pcall(host: str) -> None:
    """An error after a blocking call is returned by resume/pcall and does not fail the process."""
    assert await result(host, "errors_around_blocking") == {
        "value": {
            "resume": [False, "late", "dead"],
            "pcall_ok": [True, "slept"],
            "pcall_err": [False, "after sleep"],
            "nested": ["inner/done", "outer done"],
        }
    }


async def test_coroutine_wrap_generators_behave_as_in_lua(host: str) -> None:
    """coroutine.wrap and coroutine.yield keep standard Lua behaviour."""
    assert await result(host, "wrap") == {"value": [10, 20, 30]}


async def test_an_uncaught_error_in_a_spawned_coroutine_fails_the_process(host: str) -> None:
    """The process exits with the error raised in any of its coroutines."""
    assert await result(host, "coroutine_fails") == {
        "error": {"kind": "Conflict", "message": "from a coroutine"}
    }


async def test_a_string_raised_in_a_spawned_coroutine_becomes_internal(host: str) -> None:
    """A raised string fails the process with kind Internal carrying the text."""
    outcome = await result(host, "coroutine_raises_text")
    assert outcome["error"]["kind"] == "Internal"
    assert "text from a coroutine" in outcome["error"]["message"]


async def test_coroutines_waiting_for_each_other_are_a_deadlock(host: str) -> None:
    """All coroutines blocked on local channels: Internal 'deadlock: all coroutines are blocked'."""
    deadlock = {"error": {"kind": "Internal", "message": "deadlock: all coroutines are blocked"}}
    assert await result(host, "deadlock") == deadlock
    assert await result(host, "lone_receive") == deadlock


async def test_a_pending_timer_is_not_a_deadlock(host: str) -> None:
    """A coroutine sleeping on a timer can still wake the others."""
    assert await result(host, "sleeper_not_deadlocked") == {"value": "woke"}


async def test_returning_from_main_discards_the_other_coroutines(host: str) -> None:
    """When main returns, a runnable coroutine never runs again (its send never happens)."""
    assert await run_on_host("coro", "discards", host) == {
        "value": "main returned",
        "topics": ["early", "marker"],
    }
