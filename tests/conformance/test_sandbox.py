"""Sandbox and isolation.

See docs/reference/lua-modules.md, "Conventions", "Globals and the sandbox";
docs/reference/yaml-kinds.md, "Modules".

Every attempt below must be refused; the tests assert what a program observes.
"""

from __future__ import annotations

from ._support import run_on_host


async def test_dangerous_globals_and_os_functions_are_nil(host: str) -> None:
    """python, io, debug, package, load*, dofile, collectgarbage, string.dump, os.* are nil."""
    assert await run_on_host("sandbox", "run", host, "removed") == {
        "present": [],
        "os_time_works": True,
        "os_clock_works": True,
        "difftime": 6.0,
    }


async def test_shared_libraries_cannot_be_changed_for_other_processes(host: str) -> None:
    """Writes to string/table/math/os/modules raise, and another process sees the originals."""
    result = await run_on_host("sandbox", "shared_libraries", host)
    assert result["tried"] == {
        "string.x = 1": True,
        "string.upper = ...": True,
        "table.insert = ...": True,
        "math.pi = 3": True,
        "os.time = ...": True,
        "rawset(string, ...)": True,
        "setmetatable(string, ...)": True,
        "getmetatable('').__index.upper = ...": True,
        "getmetatable('').__index = ...": True,
        "process.send = ...": True,
        "errors.new = ...": True,
        "coroutine.spawn = ...": True,
    }
    assert result["other"] == {
        "string_x": True,
        "rawx": True,
        "missing_key": True,
        "upper": "ABC",
        "string_upper": "ABC",
        "insert": True,
        "pi": True,
        "time": True,
        "send": True,
        "errors_new": True,
        "spawn": True,
        "print": True,
        "tostring": True,
    }


async def test_the_environment_metatable_cannot_change_other_processes_globals(host: str) -> None:
    """Rewriting getmetatable(_G).__index in one process leaves print in another intact."""
    result = await run_on_host("sandbox", "environment_metatable", host)
    assert result["other"]["print"] is True
    assert result["other"]["tostring"] is True


async def test_tables_nested_in_modules_cannot_be_changed_for_other_processes(host: str) -> None:
    """Writing process.event.EXIT or crypto.random.bytes does not reach another process."""
    assert await run_on_host("sandbox", "nested_module_tables", host) == {
        "exit_constant": "pid.exit",
        "random_bytes_length": 4,
    }


async def test_globals_of_one_process_are_invisible_to_another(host: str) -> None:
    """A global set by one live process (directly or through _G) is nil in another."""
    assert await run_on_host("sandbox", "globals", host) == {
        "other": {"secret_is_nil": True, "via_g_is_nil": True, "g_secret": True},
        "own": ["mine", "mine too"],
    }


async def test_gc_metamethods_are_refused(host: str) -> None:
    """setmetatable with a __gc field raises."""
    assert await run_on_host("sandbox", "run", host, "finaliser") == {"gc_refused": True}


async def test_pairs_and_next_reveal_nothing_inside_runtime_objects(host: str) -> None:
    """Channels, messages, payloads and error objects show no keys to pairs or next."""
    assert await run_on_host("sandbox", "run", host, "opaque") == {
        "channel_pairs": [],
        "message_pairs": [],
        "payload_pairs": [],
        "error_pairs": [],
    }


async def test_randomseed_in_one_process_does_not_change_another_sequence(host: str) -> None:
    """A seeded math.random stream is the same whether or not another process re-seeds meanwhile."""
    assert await run_on_host("sandbox", "random", host) == {"same": True}


async def test_requiring_an_unlisted_module_raises(host: str) -> None:
    """require of a module not in `modules` raises "module '<name>' is not allowed in <id>"."""
    result = await run_on_host("sandbox", "run", host, "requirer")
    assert result["funcs_raised"] is True
    assert "module 'funcs' is not allowed in t.sandbox:requirer" in result["funcs_error"]
    assert result["time_raised"] is True
    assert "module 'time' is not allowed in t.sandbox:requirer" in result["time_error"]
