"""A Lua process that allocates without limit fails alone (docs/sandbox.md).

The node's native Lua state has a byte limit (``lua_memory_limit`` in orrery.yaml, or
``open_node(max_memory=...)``). The process whose allocation fails ends with
``Internal: <entry>: out of memory (...)``, cannot catch that failure, and its neighbours
keep running.
"""

from __future__ import annotations

from pathlib import Path

import orrery
import pytest
from orrery.errors import RegistryError
from orrery.runtime._node import load

APPS = Path(__file__).parent / "apps"
MEMORY = APPS / "memory"
LIMIT = 16 * 1024 * 1024

GROWERS = [
    "grow_table",
    "grow_string",
    "grow_global",
    "grow_in_pcall",
    "grow_in_coroutine",
    "grow_in_spawned",
    # builds a result that fits, whose copy for the watchers does not: the copy runs on the
    # node's main thread, outside the process, and once killed the whole node
    "big_result",
]


@pytest.mark.parametrize("entry", GROWERS)
async def test_a_process_growing_forever_fails_with_out_of_memory_and_its_neighbour_answers(
    entry: str,
) -> None:
    """The grower ends with Internal naming its entry and the limit; the echo keeps serving."""
    async with orrery.open_node([MEMORY], max_memory=LIMIT) as node:
        result = await node.call("t.memory:cases", entry)
        assert await node.call("t.memory:small_fn", 100_000) == 100_000
    assert result["kind"] == "Internal"
    assert result["message"] == (
        f"t.memory:{entry}: out of memory (the node's Lua memory limit of 16 MiB was reached)"
    )
    assert result["pongs"] == [1, 2, 1000]
    assert result["neighbour"] == "stopped"


async def test_a_function_growing_forever_fails_its_call_and_memory_is_given_back() -> None:
    """The call raises InternalError; afterwards the state is back near its idle size."""
    async with orrery.open_node([MEMORY], max_memory=LIMIT) as node:
        idle = node.native.engine.memory_used()
        for _ in range(3):  # the memory is released each time, so this can repeat
            with pytest.raises(orrery.errors.InternalError, match=r"t\.memory:grow_fn: out of mem"):
                await node.call("t.memory:grow_fn")
        assert node.native.engine.memory_used() < idle + LIMIT // 4
        assert await node.call("t.memory:small_fn", 10) == 10


async def test_a_function_whose_result_cannot_be_copied_fails_its_call_and_the_node_serves() -> (
    None
):
    """A result that fits but whose copy does not: the call fails with out of memory."""
    async with orrery.open_node([MEMORY], max_memory=LIMIT) as node:
        for _ in range(2):
            with pytest.raises(orrery.errors.InternalError, match=r"big_result_fn: out of memory"):
                await node.call("t.memory:big_result_fn")
        assert await node.call("t.memory:small_fn", 10) == 10


async def test_watchers_whose_result_copies_do_not_fit_get_an_error_and_the_node_serves() -> None:
    """Each watcher's copy of a 2 MB result is made outside the process: those that do not fit
    get an out-of-memory error (never nothing, never a normal exit), the others the value."""
    async with orrery.open_node([MEMORY], max_memory=LIMIT) as node:
        seen = await node.call("t.memory:many_watchers", 20)
        assert await node.call("t.memory:small_fn", 10) == 10
    assert len(seen) == 20
    assert set(seen) <= {30000, "out of memory while copying the exit result"}
    assert "out of memory while copying the exit result" in seen  # 20 copies cannot all fit
    assert 30000 in seen


async def test_a_python_value_larger_than_the_limit_is_refused_and_the_node_keeps_serving() -> None:
    """Arguments too big for the state raise InternalError instead of aborting Python."""
    async with orrery.open_node([MEMORY], max_memory=LIMIT) as node:
        with pytest.raises(orrery.errors.InternalError, match="does not fit in the node's Lua"):
            await node.call("t.memory:small_fn", "x" * (2 * LIMIT))
        with pytest.raises(orrery.errors.InternalError, match="out of memory"):
            await node.call("t.memory:small_fn", list(range(LIMIT // 8)))
        assert await node.call("t.memory:small_fn", 10) == 10


async def test_the_limit_comes_from_orrery_yaml() -> None:
    """lua_memory_limit: "24MiB" in the first root's orrery.yaml is the limit a process hits."""
    async with orrery.open_node([APPS / "memory_config", MEMORY]) as node:
        with pytest.raises(orrery.errors.InternalError, match="limit of 24 MiB was reached"):
            await node.call("t.memory:grow_fn")


def test_the_default_limit_is_512_mib() -> None:
    """Without orrery.yaml a node bounds its Lua state at 512 MiB."""
    assert load([MEMORY]).config.lua_memory_limit == 512 * 1024 * 1024


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"lots"', 'invalid size "lots"'),
        ("-1", "must be at least 0"),
        ("[1]", "expected a size"),
        ('"12 parsecs"', 'invalid size "12 parsecs"'),
    ],
)
def test_a_bad_limit_is_a_registry_problem_naming_the_field(
    tmp_path: Path, value: str, message: str
) -> None:
    """orrery.yaml with an unusable lua_memory_limit fails to load, naming file and field."""
    (tmp_path / "orrery.yaml").write_text(f"lua_memory_limit: {value}\n")
    with pytest.raises(RegistryError) as info:
        load([tmp_path, MEMORY])
    text = str(info.value)
    assert "orrery.yaml" in text
    assert "lua_memory_limit" in text
    assert message in text
