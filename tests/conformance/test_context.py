"""Context: with_context, inheritance and ctx.get/ctx.all.

See docs/reference/semantics.md, "Context"; docs/reference/lua-modules.md, "ctx".
"""

from __future__ import annotations

from ._support import run_case, run_on_host

NOT_FOUND = {"returned_nil": True, "kind": "NotFound"}
INVALID = {"returned_nil": True, "kind": "Invalid"}


async def test_a_spawned_process_reads_the_spawner_context(host: str) -> None:
    """process.with_context values are visible to the child through ctx.get and ctx.all."""
    assert await run_on_host("ctx", "child", host) == {
        "all": {"tenant": "t1", "n": 5, "list": [1, 2]},
        "tenant": "t1",
        "missing": NOT_FOUND,
        "empty_key": INVALID,
    }


async def test_without_context_ctx_all_is_empty_and_get_is_not_found(host: str) -> None:
    """A process spawned without context sees an empty context; ctx.get gives NotFound."""
    result = await run_on_host("ctx", "no_context", host)
    assert result["all"] in ({}, [])
    assert result["missing"] == NOT_FOUND
    assert "tenant" not in result


async def test_context_is_inherited_by_grandchildren_calls_and_executor_overlays(
    host: str,
) -> None:
    """Children and function frames get a copy of the caller's context, overlays win."""
    inherited = {"a": "from root", "b": "from root"}
    assert await run_on_host("ctx", "inherited", host) == {
        "own": inherited,
        "grandchild": inherited,
        "overlaid": {"a": "from root", "b": "child wins"},
        "call": inherited,
        "executor_call": {"a": "from root", "b": "executor wins", "extra": 1},
        "after_executor": inherited,
    }


async def test_a_frame_without_context_has_an_empty_one() -> None:
    """ctx.all() is empty when nobody set a context."""
    assert await run_case("ctx", "frame_context") in ({}, [])
