"""The charged C library wrappers (runtime/lua/cwork.lua, docs/sandbox.md "C library work").

Outside a process the charge does nothing, so on one engine these tests compare each
wrapper with the C function it wraps, called the same way from the same line: same
results, same errors (message and location), same effect on a table argument. Tables
with a ``__len`` go to the Lua versions of the table functions, which must match too.
The budget kills of real processes are in tests/reliability/test_sandbox_escapes.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orrery.hosts._native import standalone_engine
from orrery.runtime._engine import LuaEngine

SETTINGS = settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ADDRESS = re.compile(r"0x[0-9a-f]+")

#: Runs lib.<fname>(<args>) for lib = the real library and the wrappers, from one line.
HARNESS = """
local real, wrapped, make_args = ...
local function describe(ok, r, a)
  local out = {tostring(ok)}
  if ok then
    for i = 1, r.n do out[#out + 1] = type(r[i]) .. ":" .. tostring(r[i]) end
  else
    out[#out + 1] = tostring(r)
  end
  local t = a[1]
  if type(t) == "table" then
    local cells = {}
    for i = -1, 12 do cells[#cells + 1] = tostring(rawget(t, i)) end
    out[#out + 1] = "t=" .. table.concat(cells, ",")
  end
  return table.concat(out, " | ")
end
local function run(lib)
  local a = make_args()
  local ok, r = pcall(function() return table.pack(lib.FNAME(table.unpack(a, 1, a.n))) end)
  return describe(ok, r, a)
end
return run(real), run(wrapped)
"""


@pytest.fixture(scope="module")
def engine() -> LuaEngine:
    """A native engine outside any node: the wrappers need no process."""
    return standalone_engine("cwork")


@pytest.fixture(scope="module")
def compare(engine: LuaEngine) -> Callable[[str, str, str], tuple[str, str]]:
    """compare(lib, fname, args_source) -> outcomes of (C function, wrapper)."""
    load = engine.runtime.eval("load")
    cw = engine.K.cwork
    real = {
        "string": engine.runtime.eval("string"),
        "table": engine.runtime.eval("table"),
        "utf8": engine.runtime.eval("utf8"),
    }

    def run(lib: str, fname: str, args: str) -> tuple[str, str]:
        make = load(f"return function() return table.pack({args}) end".encode())()
        code = HARNESS.replace("FNAME", fname).encode()
        chunk = load(code, b"=harness")
        out = chunk(real[lib], cw[lib.encode()], make)
        # fresh tables in the arguments print with different addresses
        return tuple(ADDRESS.sub("0x?", x.decode(errors="replace")) for x in out)  # type: ignore[return-value]

    return run


def lua_str(s: str) -> str:
    """A Lua literal for s (bytes < 256)."""
    return '"' + "".join(f"\\{ord(c)}" for c in s) + '"'


TEXT = st.text(alphabet="abcXYZ \u00e9\u00ff\x80\x00", max_size=8).map(lua_str)
INT = st.integers(min_value=-10, max_value=10).map(str)
ODD = st.sampled_from(
    [
        "nil",
        "1.5",
        "2.0",
        '"3"',
        '"x"',
        "{}",
        "true",
        "math.maxinteger",
        "math.mininteger",
        "-0.0",
        "1e300",
        "0/0",
    ]
)
VALUE = st.one_of(INT, INT, TEXT, ODD)


def _args(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A Lua argument list: the given positions, cut at a random length."""
    return st.tuples(*parts, st.integers(min_value=0, max_value=len(parts))).map(
        lambda t: ", ".join(t[: t[-1]])
    )


class TestStringFunctions:
    """Wrapper and C function agree on small random arguments."""

    @SETTINGS
    @given(args=_args(TEXT, VALUE, st.one_of(TEXT, VALUE)))
    @pytest.mark.parametrize("fname", ["rep", "sub", "byte"])
    def test_rep_sub_byte(self, compare: Any, fname: str, args: str) -> None:
        real, wrapped = compare("string", fname, args)
        assert wrapped == real

    @SETTINGS
    @given(args=_args(st.one_of(TEXT, VALUE)))
    @pytest.mark.parametrize("fname", ["upper", "lower", "reverse"])
    def test_one_string(self, compare: Any, fname: str, args: str) -> None:
        real, wrapped = compare("string", fname, args)
        assert wrapped == real

    @SETTINGS
    @given(args=st.lists(st.one_of(st.integers(-2, 300).map(str), ODD), max_size=4).map(", ".join))
    def test_char(self, compare: Any, args: str) -> None:
        real, wrapped = compare("string", "char", args)
        assert wrapped == real

    @SETTINGS
    @given(
        fmt=st.sampled_from(["%s", "%d", "%5.1f|%s", "%q", "%x %s", "%y", "%", "%10s", "%-3d"]),
        rest=st.lists(VALUE, max_size=2),
    )
    def test_format(self, compare: Any, fmt: str, rest: list[str]) -> None:
        real, wrapped = compare("string", "format", ", ".join([lua_str(fmt), *rest]))
        assert wrapped == real

    @SETTINGS
    @given(
        fmt=st.sampled_from(["i4", "<i2z", "s1", "c3", "c0", "!4 i1 i8", "i17", "z", "X", "d"]),
        rest=st.lists(VALUE, max_size=2),
    )
    def test_pack_and_unpack(self, compare: Any, fmt: str, rest: list[str]) -> None:
        args = ", ".join([lua_str(fmt), *rest])
        real, wrapped = compare("string", "pack", args)
        assert wrapped == real
        real, wrapped = compare("string", "unpack", args)
        assert wrapped == real

    def test_empty_rep_is_empty_without_the_loop(self, engine: LuaEngine) -> None:
        """string.rep of nothing returns "" at once (the C loop would run n times)."""
        run = engine.runtime.eval("function(s) return s.rep('', math.maxinteger, '') end")
        assert run(engine.K.cwork.string) == b""


class TestUtf8Functions:
    """Wrapper and C function agree on small random arguments."""

    @SETTINGS
    @given(args=_args(TEXT, VALUE, VALUE, st.sampled_from(["true", "false", "nil"])))
    @pytest.mark.parametrize("fname", ["len", "codepoint", "offset"])
    def test_positions(self, compare: Any, fname: str, args: str) -> None:
        real, wrapped = compare("utf8", fname, args)
        assert wrapped == real

    @SETTINGS
    @given(args=st.lists(st.one_of(st.integers(-1, 0x10FFFF).map(str), ODD), max_size=3))
    def test_char(self, compare: Any, args: list[str]) -> None:
        real, wrapped = compare("utf8", "char", ", ".join(args))
        assert wrapped == real

    @SETTINGS
    @given(s=TEXT, lax=st.sampled_from(["", ", true"]))
    def test_codes_loop(self, engine: LuaEngine, s: str, lax: str) -> None:
        run = engine.runtime.eval(
            "function(lib, s, lax) local out = {}"
            " local ok, e = pcall(function() for p, c in lib.codes(s, lax) do"
            " out[#out + 1] = p .. ':' .. c end end)"
            " return tostring(ok) .. ' ' .. tostring(e) .. ' ' .. table.concat(out, ',') end"
        )
        subject = engine.runtime.eval(f"{s}")
        lax_v = bool(lax)
        real = run(engine.runtime.eval("utf8"), subject, lax_v)
        wrapped = run(engine.K.cwork.utf8, subject, lax_v)
        # the iterator is a different function: only its error's location may differ
        assert wrapped.split(b":")[-1] == real.split(b":")[-1]
        assert wrapped.split(b" ")[0] == real.split(b" ")[0]


TABLE = st.lists(st.one_of(st.integers(0, 9).map(str), TEXT), max_size=5).map(
    lambda xs: "{" + ", ".join(xs) + "}"
)


def _len_table(t: tuple[list[str], int]) -> str:
    """A table whose __len answers a given length."""
    items, n = t
    return f"setmetatable({{{', '.join(items)}}}, {{__len = function() return {n} end}})"


LEN_TABLE = st.tuples(st.lists(st.integers(0, 9).map(str), max_size=5), st.integers(0, 6)).map(
    _len_table
)
ANY_TABLE = st.one_of(TABLE, TABLE, LEN_TABLE, st.sampled_from(['"abc"', "nil", "7"]))


class TestTableFunctions:
    """Wrapper (C path, or the Lua version for a __len) and C function agree."""

    @SETTINGS
    @given(args=_args(ANY_TABLE, VALUE, VALUE))
    @pytest.mark.parametrize("fname", ["insert", "remove", "unpack"])
    def test_insert_remove_unpack(self, compare: Any, fname: str, args: str) -> None:
        real, wrapped = compare("table", fname, args)
        assert wrapped == real

    @SETTINGS
    @given(args=_args(ANY_TABLE, st.one_of(TEXT, VALUE), VALUE, VALUE))
    def test_concat(self, compare: Any, args: str) -> None:
        real, wrapped = compare("table", "concat", args)
        assert wrapped == real

    @SETTINGS
    @given(args=_args(ANY_TABLE, VALUE, VALUE, VALUE, st.sampled_from(["{}", "nil", "1"])))
    def test_move(self, compare: Any, args: str) -> None:
        real, wrapped = compare("table", "move", args)
        assert wrapped == real

    @SETTINGS
    @given(
        xs=st.lists(st.integers(0, 50), unique=True, max_size=40),
        comp=st.sampled_from(["", ", function(a, b) return a > b end", ", 1"]),
        with_len=st.booleans(),
    )
    def test_sort(self, compare: Any, xs: list[int], comp: str, with_len: bool) -> None:
        t = "{" + ", ".join(map(str, xs)) + "}"
        if with_len:
            t = f"setmetatable({t}, {{__len = function() return {len(xs)} end}})"
        real, wrapped = compare("table", "sort", t + comp)
        assert wrapped == real

    def test_an_invalid_order_function_is_reported_like_c(self, compare: Any) -> None:
        """A comparator that is not an order fails with C's message, at the caller's line."""
        args = "setmetatable({5, 3, 8, 1, 9, 2, 7}, {__len = function() return 7 end}),"
        args += " function() return true end"
        real, wrapped = compare("table", "sort", args)
        assert real.split(" | ")[:2] == wrapped.split(" | ")[:2]
        assert "invalid order function for sorting" in wrapped

    def test_len_is_called_once(self, engine: LuaEngine) -> None:
        """A __len runs once per call, as in the C function (its effects are seen once)."""
        run = engine.runtime.eval(
            "function(lib) local calls = 0"
            " local t = setmetatable({1, 2},"
            " {__len = function(t) calls = calls + 1 return rawlen(t) end})"
            " lib.insert(t, 1, 0); lib.remove(t); lib.concat(t); lib.unpack(t); lib.sort(t)"
            " return calls end"
        )
        assert run(engine.runtime.eval("table")) == run(engine.K.cwork.table) == 5


class TestMethodErrors:
    """Methods number their arguments from the one after self, as in plain Lua."""

    def test_method_argument_errors(self, engine: LuaEngine) -> None:
        run = engine.runtime.eval(
            "function(m) return select(2, pcall(m.rep, 'x', {})),"
            " select(2, pcall(m.rep, {}, 1)) end"
        )
        bad_n, bad_self = run(engine.K.cwork.methods)
        assert bad_n == b"bad argument #1 to 'rep' (number expected, got table)"
        assert bad_self == b"calling 'rep' on bad self (string expected, got table)"


class TestLogCap:
    """print and logger lines are capped before they reach the host."""

    def test_a_long_print_line_is_cut_with_a_marker(self, engine: LuaEngine) -> None:
        line = engine.runtime.eval(
            "function(cw) return cw.print_line(tostring, ('x'):rep(200000), 'y') end"
        )(engine.K.cwork)
        assert len(line) < 65536 + 64
        assert line.endswith(b" ... [truncated, 200002 bytes]")

    def test_a_short_print_line_is_unchanged(self, engine: LuaEngine) -> None:
        line = engine.runtime.eval(
            "function(cw) return cw.print_line(tostring, 1, nil, 'a', true) end"
        )(engine.K.cwork)
        assert line == b"1\tnil\ta\ttrue"

    def test_logger_fields_are_capped(self, engine: LuaEngine) -> None:
        out = engine.runtime.eval(
            "function(cw) local s = ('x'):rep(100000)"
            " local f = cw.cap_fields({a = s})"
            " local g = cw.cap_fields({n = 1, t = {b = 'short'}})"
            " return #f.a, f.a:sub(-30), g.n, g.t.b end"
        )(engine.K.cwork)
        assert out[0] < 65536 + 64
        assert out[1].endswith(b"[truncated, 100000 bytes]")
        assert out[2:] == (1, b"short")

    def test_fields_beyond_the_room_are_counted(self, engine: LuaEngine) -> None:
        out = engine.runtime.eval(
            "function(cw) local f = {} for i = 1, 20000 do f[i] = 'abcdefgh' end"
            " local g = cw.cap_fields(f) return g['...'] end"
        )(engine.K.cwork)
        assert out.startswith(b"[truncated, ") and out.endswith(b" more fields]")
