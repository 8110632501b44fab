"""Adversarial sandbox suite: escape attempts that must all fail (docs/sandbox.md).

Each attempt in ``apps/escape/attempts.lua`` runs as a real process between a long-lived
neighbour and a fresh probe process. An attempt returns what it reached (a string) or
nothing; raising counts as a refusal. Whatever it does, the neighbour must keep answering
and both the neighbour and a process started afterwards must see an intact world: the same
string methods, libraries, modules and no globals leaked from the attempt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orrery
import pytest

APP = Path(__file__).parent / "apps" / "escape"

#: Attempts of attempts.lua (entry ``attempt``).
ATTEMPTS = [
    "bytecode_dump",
    "bytecode_through_string_methods",
    "close_metamethod_loops",
    "collectgarbage_via_require",
    "concat_long_strings_in_a_loop",
    "deep_recursion",
    "deep_table_into_send",
    "env_metatable",
    "env_metatable_index_write",
    "error_details_with_a_function",
    "forge_channel_and_messages",
    "forge_error_object",
    "gc_finalisers",
    "huge_format",
    "huge_string_rep",
    "io_and_friends",
    "lookups_through_a_deep_index_chain",
    "metamethods_that_raise",
    "metamethods_that_yield",
    "module_metatables",
    "module_writes",
    "nan_and_huge_durations",
    "os_date_errors_name_internals",
    "os_date_formats",
    "os_functions",
    "pack_and_unpack",
    "package_loaded_through_require_upvalues",
    "pcall_table_whose_eq_loops",
    "python_eval_via_string_methods",
    "python_globals",
    "python_require",
    "raise_runtime_object",
    "raise_table_whose_eq_loops",
    "raise_table_whose_eq_waits",
    "raise_table_whose_eq_yields",
    "raise_table_with_metatable",
    "random_seeding",
    "resume_a_coroutine_waiting_in_a_call",
    "resume_kernel_coroutine",
    "resume_spawned_coroutine",
    "runtime_object_writes",
    "set_globals",
    "spin_loop",
    "string_library_writes",
    "string_metatable",
    "string_metatable_via_rawget",
    "table_functions_on_shared_tables",
    "walk_globals_and_modules",
    "walk_runtime_objects",
    "xpcall_handlers",
    "yield_through_user_coroutines",
]

#: Attempts of attempts_c.lua (entry ``attempt_c``): C library work the budget cannot see.
ATTEMPTS_C = [
    "byte_unpack_loop",
    "channel_new_huge",
    "format_loop",
    "logger_huge_fields",
    "pack_padding_loop",
    "print_huge_five_times",
    "string_rep_loop",
    "string_rep_method_of_nothing",
    "string_rep_of_nothing",
    "sub_copy_loop",
    "table_concat_huge_len",
    "table_concat_over_index",
    "table_insert_front_loop",
    "table_insert_huge_len",
    "table_move_huge",
    "table_move_huge_into_other",
    "table_remove_front_loop",
    "table_remove_huge_len",
    "table_sort_big",
    "table_sort_one_long_string",
    "table_unpack_huge_len",
    "upper_loop",
    "utf8_codes_skip_loop",
    "utf8_len_loop",
]

#: attempt entry -> the attempts its file holds
SUITES = {"attempt": ATTEMPTS, "attempt_c": ATTEMPTS_C}
CASES = [(entry, name) for entry, names in SUITES.items() for name in names]

#: What every process sees when nothing leaked (procs.lua: fingerprint).
INTACT = {
    "upper": "ABC",
    "string_upper": "ABC",
    "rep": "abab",
    "format": "7-x",
    "len": 4,
    "concat": "1,2",
    "pi": True,
    "floor": 2,
    "tostring": "12",
    "no_leaks": True,
    "string_mt": "string",
    "base": "function" * 5,
    "removed": "nil" * 7,
    "os_time": "integer",
    "modules": "function" * 3,
    "channel": "c",
    "error_kind": "NotFound",
    "sorted": "123",
}


def _assert_refused(outcome: dict[str, Any], entry: str = "t.escape:attempt") -> None:
    if "failed" in outcome:  # the attempt's process was stopped (budget): an Internal error
        assert outcome["failed"].startswith(f"Internal: {entry}: ")
        return
    assert outcome["escaped"] is False, outcome["escaped"]
    error = outcome.get("error")
    if error is not None:  # a refusal must say what was refused, in Lua terms
        assert error.strip()
        assert "Traceback" not in error


@pytest.mark.parametrize("entry", sorted(SUITES))
async def test_the_attempt_list_is_every_attempt_in_the_lua_file(entry: str) -> None:
    """The suite runs every attempt written in each attempt file (so the count is honest)."""
    async with orrery.open_node([APP]) as node:
        assert await node.call(f"t.escape:{entry}_names") == sorted(SUITES[entry])


@pytest.mark.parametrize(("entry", "name"), CASES)
async def test_an_escape_attempt_fails_and_leaves_its_neighbours_intact(
    entry: str, name: str
) -> None:
    """The attempt gains nothing; the neighbour answers; no process sees a changed world."""
    async with orrery.open_node([APP]) as node:
        result = await node.call("t.escape:cases", name, f"t.escape:{entry}")
        # the node still serves calls, and a function entry cannot escape either
        try:
            fn = await node.call(f"t.escape:{entry}_fn", name)
        except orrery.errors.InternalError as exc:
            fn = {"failed": f"Internal: {exc.message}"}
    _assert_refused(result["outcome"], f"t.escape:{entry}")
    assert result["pongs"] == [1, 2]
    assert result["neighbour"] == "stopped"
    assert result["same_in_neighbour"] == INTACT
    assert result["fresh"] == INTACT
    _assert_refused(fn, f"t.escape:{entry}_fn")
