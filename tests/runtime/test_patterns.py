"""The bounded pattern functions (runtime/lua/patterns.lua, docs/sandbox.md).

The sandbox's ``string.find/match/gmatch/gsub`` run the C matcher when an estimate of
its worst case is small, and a pure-Lua matcher (which the step budget can interrupt)
otherwise. These tests check, on one engine, that the Lua matcher forced on every
input gives the same results and the same errors as Lua's C functions, that the
wrappers do too, and which path everyday and pathological patterns take. Budget kills
of real processes are in tests/conformance/test_runaway.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orrery.hosts._native import standalone_engine
from orrery.runtime._engine import LuaEngine

SETTINGS = settings(
    derandomize=True,
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Runs one call on the C function, the forced Lua matcher and the wrapper, and
#: describes each outcome as a string (results with their types, or the error).
HARNESS = """
function(P, fname, nargs, ...)
  local args = table.pack(...)
  args.n = nargs
  local function describe(ok, ...)
    local t = table.pack(...)
    local out = {tostring(ok)}
    for i = 1, t.n do out[#out + 1] = type(t[i]) .. ":" .. tostring(t[i]) end
    return table.concat(out, " | ")
  end
  local function all_matches(gmatch, ...)
    local out, it = {}, gmatch(...)
    for _ = 1, 40 do
      local t = table.pack(it())
      if t[1] == nil then break end
      out[#out + 1] = describe(true, table.unpack(t, 1, t.n))
    end
    return table.concat(out, " ; ")
  end
  local REPLS = {
    fn = function(a, ...)
      if a == "b" then return nil end
      if a == "c" then return false end
      return "<" .. tostring(a) .. select("#", ...) .. ">"
    end,
    tab = {a = "A", b = false, [" "] = 7, c = {}},
  }
  if fname == "gsub" and REPLS[args[3]] then args[3] = REPLS[args[3]] end
  local function run(lib)
    if fname == "gmatch" then
      return describe(pcall(all_matches, lib.gmatch, table.unpack(args, 1, args.n)))
    end
    return describe(pcall(lib[fname], table.unpack(args, 1, args.n)))
  end
  return run(P.c), run(P.lua), run(P)
end
"""


@pytest.fixture(scope="module")
def engine() -> LuaEngine:
    """A native engine outside any node: the pattern functions need no process."""
    return standalone_engine("patterns")


@pytest.fixture(scope="module")
def compare(engine: LuaEngine) -> Callable[..., tuple[str, str, str]]:
    """compare(fname, *args) -> outcomes of (C, forced Lua, wrapper)."""
    harness = engine.runtime.eval(HARNESS)
    patterns = engine.K.patterns

    def run(fname: str, *args: Any) -> tuple[str, str, str]:
        lua_args = [a.encode() if isinstance(a, str) else a for a in args]
        out = harness(patterns, fname.encode(), len(lua_args), *lua_args)
        return tuple(x.decode(errors="replace") for x in out)

    return run


# Pattern pieces: every feature of Lua 5.4 patterns, and broken ones.
ITEMS = [
    "a",
    "b",
    "c",
    " ",
    ".",
    "%a",
    "%A",
    "%d",
    "%s",
    "%S",
    "%w",
    "%p",
    "%x",
    "%l",
    "%u",
    "%c",
    "%g",
    "%G",
    "%.",
    "%%",
    "[ab]",
    "[^a]",
    "[a-c]",
    "[%d%s]",
    "[]]",
    "[^]a]",
    "[a-]",
    "%z",
    "-",
    "*",
    "^",
    "$",
]
SPECIAL = [
    "(",
    ")",
    "()",
    "%1",
    "%2",
    "%0",
    "%b()",
    "%bab",
    "%f[%a]",
    "%f[^a ]",
    "%f[%z]",
    "%",
    "[",
    "[a",
    "%b",
    "%f",
    "%fa",
    "[%",
]
QUANT = ["", "", "*", "+", "-", "?"]
SUBJECT_CHARS = "aabbc (1)A%-]\0"

piece = st.one_of(
    st.tuples(st.sampled_from(ITEMS), st.sampled_from(QUANT)).map("".join),
    st.sampled_from(SPECIAL),
)
patterns = st.lists(piece, max_size=7).map("".join) | st.just("")
anchored = st.tuples(st.sampled_from(["", "", "^"]), patterns).map("".join)
subjects = st.text(alphabet=SUBJECT_CHARS, max_size=9)
inits = st.none() | st.integers(-12, 12)


def _same(outcomes: tuple[str, str, str]) -> None:
    c, lua, wrapper = outcomes
    assert lua == c, f"Lua matcher: {lua!r}, C: {c!r}"
    assert wrapper == c, f"wrapper: {wrapper!r}, C: {c!r}"


@SETTINGS
@given(s=subjects, p=anchored, init=inits, plain=st.none() | st.booleans())
def test_find_agrees_with_c(compare: Any, s: str, p: str, init: int | None, plain: Any) -> None:
    """find: positions, captures and errors are those of the C function."""
    _same(compare("find", s, p, init, plain))


@SETTINGS
@given(s=subjects, p=anchored, init=inits)
def test_match_agrees_with_c(compare: Any, s: str, p: str, init: int | None) -> None:
    """match: captures, position captures and errors are those of the C function."""
    _same(compare("match", s, p, init))


@SETTINGS
@given(s=subjects, p=anchored, init=inits)
def test_gmatch_agrees_with_c(compare: Any, s: str, p: str, init: int | None) -> None:
    """gmatch: the same sequence of matches (a leading '^' is a plain character in 5.4)."""
    _same(compare("gmatch", s, p, init))


REPLS = st.sampled_from(["x", "%0", "%1", "%2", "%%", "%", "<%1|%0>", "", "%a", "fn", "tab"])


@SETTINGS
@given(s=subjects, p=anchored, repl=REPLS, n=st.none() | st.integers(-1, 3))
def test_gsub_agrees_with_c(compare: Any, s: str, p: str, repl: str, n: int | None) -> None:
    """gsub with string, function and table replacements and a maximum count."""
    _same(compare("gsub", s, p, repl, n))


CASES = [
    ("match", "key=value", "^(%w+)=(%w+)$"),
    ("match", "  padded\t ", "^%s*(.-)%s*$"),
    ("match", "x(a(b)c)y", "%b()"),
    ("match", "THE (quick) fox", "%f[%a]%a+"),
    ("match", "hello", "()ll()"),
    ("match", "abcabc", "(abc)%1"),
    ("match", "a", "%"),
    ("match", "a", "[a"),
    ("match", "a", "(a%1)"),
    ("match", "a", "(a"),
    ("match", "a", ")"),
    ("match", "a", "%b"),
    ("match", "a", "%fx"),
    ("match", "a" * 40, "(a?)" * 40),
    ("find", "a" * 300, "a?" * 250),
    ("find", "a.b", ".", 1, True),
    ("find", "abc", "", 4),
    ("gsub", "hello world", "(o)", "[%1]"),
    ("gsub", "hello", "", "-"),
    ("gsub", "abc", "%w", "%9"),
    ("gsub", "hello world", "%w+", "fn"),
    ("gsub", "abc", "%w", "tab"),
    ("gmatch", "one two  three", "%a+"),
    ("gmatch", "abc", "()", 2),
]


@pytest.mark.parametrize("case", CASES, ids=[repr(c[1:])[:40] for c in CASES])
def test_known_cases_agree_with_c(compare: Any, case: tuple[Any, ...]) -> None:
    """Everyday patterns and every error message, on both matchers."""
    _same(compare(*case))


@pytest.fixture(scope="module")
def route(engine: LuaEngine) -> Callable[[str, str, bool], bool]:
    """route(subject, pattern, anchored_ok) -> True when the C function runs."""
    fn = engine.runtime.eval("function(P, s, p, a) return P.route(s, nil, p, #s, a) end")

    def run(s: str, p: str, anchored_ok: bool = True) -> bool:
        return bool(fn(engine.K.patterns, s.encode(), p.encode(), anchored_ok))

    return run


def _text(n: int) -> str:
    words = ["alpha", "beta,", "gamma", "delta", "x=1", "key=value", "  ", "\t", "<b>bold</b>"]
    return " ".join(words[i % len(words)] for i in range(n))[: n * 6]


@pytest.mark.parametrize(
    ("pattern", "anchored_ok"),
    [
        ("^(%w+)=(%w+)$", True),
        ("^%s*(.-)%s*$", True),
        ("%s+", True),
        ("%a+", False),
        ("(%w+)=(%w+)", True),
        ("%d+%.?%d*", True),
        ("[^,]*,", True),
        ("<(%w+)>", True),
    ],
)
def test_everyday_patterns_stay_on_the_c_path(route: Any, pattern: str, anchored_ok: bool) -> None:
    """Typical patterns on an 18 kB text of words are routed to the C function."""
    assert route(_text(3000), pattern, anchored_ok)


@pytest.mark.parametrize(
    ("subject", "pattern"),
    [
        ("a" * 40, "a?" * 40 + "a" * 40),
        ("a" * 200000, ".-.-.-b"),
        (" " * 100000 + "x", "%s+$"),
        ("a" * 100000, "%w+="),
    ],
)
def test_pathological_patterns_go_to_the_lua_matcher(
    route: Any, subject: str, pattern: str
) -> None:
    """Patterns whose C matcher can backtrack for seconds or hours are not given to C."""
    assert not route(subject, pattern)


def test_the_lua_matcher_is_plain_lua(engine: LuaEngine) -> None:
    """The Lua path is Lua code (a count hook interrupts it): a hook fires inside a match."""
    fired = engine.runtime.eval(
        """function(P)
             local n = 0
             local co = coroutine.create(function()
               return P.lua.match(("a"):rep(16), ("a?"):rep(16) .. ("a"):rep(16))
             end)
             debug.sethook(co, function() n = n + 1 end, "", 1000)
             local ok, m = coroutine.resume(co)
             return ok, m, n
           end"""
    )(engine.K.patterns)
    ok, match, hooks = fired
    assert ok and match == b"a" * 16
    assert hooks > 100
