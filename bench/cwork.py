"""Weights and cost of the charged C library wrappers (runtime/lua/cwork.lua), in one run.

Usage::

    python bench/cwork.py            # about 30 s
    python bench/cwork.py --quick

Part 1 calibrates: it measures nanoseconds per VM instruction (a typical loop, its
instructions counted with a count hook) and nanoseconds per unit of work of each C
function (bytes, elements, comparisons), and prints their ratio (the weight: instruction
equivalents per unit) next to the weight cwork.lua uses. A weight at or above the
measured one keeps the step budget (about 0.6 s) in wall time for that function.

Part 2 times loops of everyday small calls through the wrappers and through the C
functions directly, alternating in one engine, and prints the median ratio
wrapper / C (1.0 = free).
"""

from __future__ import annotations

import argparse
import statistics

from orrery.hosts._native import standalone_engine
from orrery.runtime._engine import LuaEngine

#: Lua helpers: clock(f, n) -> CPU seconds of n calls; instr_ns(n) -> ns per VM instruction.
HELPERS = """
local clock = os.clock
local M = {}
function M.time(f, reps)
  local best = math.huge
  for _ = 1, reps do
    local t0 = clock()
    f()
    local dt = clock() - t0
    if dt < best then best = dt end
  end
  return best
end
-- a typical loop: table reads and writes, arithmetic, a call
local function work(n)
  local t, acc = {}, 0
  local function g(x) return x + 1 end
  for i = 1, n do
    local k = i % 64 + 1
    t[k] = (t[k] or 0) + i
    acc = acc + g(t[k]) * 2
  end
  return acc
end
function M.instr_ns(n)
  local count = 0
  debug.sethook(function() count = count + 1 end, "", 1000)
  work(n)
  debug.sethook()
  local instr = count * 1000
  local secs = M.time(function() work(n) end, 3)
  return secs * 1e9 / instr, instr
end
return M
"""

#: Each case: (name in cwork.W, Lua function(C) returning (setup, units), description).
#: setup() returns a thunk doing `units` units of work with the raw C function.
CALIBRATE: list[tuple[str, str, str]] = [
    (
        "rep_iter",
        "function(C) return function() C.rep('x', 4000000, '') end, 4000000 end",
        "string.rep('x', n): per copy",
    ),
    (
        "byte",
        "function(C) local s = C.rep('ab', 8000000) return function() C.upper(s) end, #s end",
        "upper/lower/reverse/sub/rep: per byte",
    ),
    (
        "byte",
        "function(C) local s = C.rep('ab', 8000000)"
        " return function() C.format('%s', s) end, #s end",
        "string.format %s: per byte",
    ),
    (
        "format_q",
        "function(C) local s = C.rep('\\1\\0\"', 1000000)"
        " return function() C.format('%q', s) end, #s end",
        "string.format %q: per byte (worst case)",
    ),
    (
        "value",
        "function(C) local s = C.rep('a', 900000) return function() C.byte(s, 1, -1) end, #s end",
        "string.byte(s, 1, -1): per value",
    ),
    (
        "utf8_byte",
        "function(C) local s = C.rep('\\u{e9}', 2000000) return function() C.ulen(s) end, #s end",
        "utf8.len: per byte",
    ),
    (
        "pack_byte",
        "function(C) return function() C.pack('c8000000', '') end, 8000000 end",
        "string.pack 'cN' padding: per byte",
    ),
    (
        "elem",
        "function(C) local t = {} for i = 1, 1000000 do t[i] = i end"
        " return function() C.insert(t, 1, 0) C.remove(t, 1) end, 2000000 end",
        "table.insert/remove at 1: per element moved",
    ),
    (
        "meta_elem",
        "function(C) local raw = {} for i = 1, 200000 do raw[i] = i end"
        " local t = setmetatable({}, {__index = function(_, k) return raw[k] end,"
        " __newindex = function(_, k, v) raw[k] = v end})"
        " return function() C.move(t, 1, 200000, 2) end, 200000 end",
        "table.move through __index/__newindex: per element",
    ),
    (
        "concat_byte",
        "function(C) local p = C.rep('x', 1000) local t = {} for i = 1, 8000 do t[i] = p end"
        " return function() C.concat(t) end, 8000000 end",
        "table.concat: per byte of result",
    ),
    (
        "sort_cmp",
        "function(C) local n = 200000 local src = {} local x = 7"
        " for i = 1, n do x = (x * 1103515245 + 12345) % 2147483648 src[i] = x end"
        " return function() local t = C.move(src, 1, n, 1, {}) C.sort(t) end, n * 18 end",
        "table.sort numbers: per n*log2(n)",
    ),
    (
        "sort_fn_cmp",
        "function(C) local n = 200000 local src = {} local x = 7"
        " for i = 1, n do x = (x * 1103515245 + 12345) % 2147483648 src[i] = x end"
        " local lt = function(a, b) return a < b end"
        " return function() local t = C.move(src, 1, n, 1, {}) C.sort(t, lt) end, n * 18 end",
        "table.sort with a comparator: per n*log2(n)",
    ),
]

#: Everyday calls: (label, Lua statement using f and lib, library key, function name).
OVERHEAD: list[tuple[str, str, str]] = [
    ("s:sub(i, i+3)", "string", "local s = 'the quick brown fox' for i = 1, N do f(s, 3, 6) end"),
    ("s:byte(i)", "string", "local s = 'the quick brown fox' for i = 1, N do f(s, 5) end"),
    ("s:upper() (20 B)", "string", "local s = 'the quick brown fox' for i = 1, N do f(s) end"),
    ("string.rep('ab', 4)", "string", "for i = 1, N do f('ab', 4) end"),
    ("string.format('%d:%s')", "string", "for i = 1, N do f('%d:%s', i, 'x') end"),
    ("table.insert(t, v)", "table", "local t = {} for i = 1, N do f(t, i) end"),
    (
        "table.remove(t)",
        "table",
        "local t = {} for i = 1, N do t[i] = i end for i = 1, N do f(t) end",
    ),
    (
        "table.concat (8 items)",
        "table",
        "local t = {1,2,3,4,5,6,7,8} for i = 1, N do f(t, ',') end",
    ),
    ("table.unpack (3)", "table", "local t = {1,2,3} for i = 1, N do f(t) end"),
    (
        "table.sort (16 items)",
        "table",
        "local s = {9,3,7,1,15,2,8,4,16,5,11,6,13,10,14,12}"
        " local t = {} for i = 1, N do for k = 1, 16 do t[k] = s[k] end f(t) end",
    ),
    (
        "utf8.len (20 B)",
        "utf8",
        "local s = 'h\\u{e9}llo w\\u{f6}rld 12345' for i = 1, N do f(s) end",
    ),
]

OVERHEAD_FN = {
    "s:sub(i, i+3)": "sub",
    "s:byte(i)": "byte",
    "s:upper() (20 B)": "upper",
    "string.rep('ab', 4)": "rep",
    "string.format('%d:%s')": "format",
    "table.insert(t, v)": "insert",
    "table.remove(t)": "remove",
    "table.concat (8 items)": "concat",
    "table.unpack (3)": "unpack",
    "table.sort (16 items)": "sort",
    "utf8.len (20 B)": "len",
}

RAW_NAME = {"table.unpack (3)": "unpack_t", "utf8.len (20 B)": "ulen"}


def _engine() -> LuaEngine:
    return standalone_engine("bench")


def main() -> None:
    """Prints the measured weights, then the wrapper / C ratio of everyday calls."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    reps = 2 if args.quick else 5
    engine = _engine()
    rt = engine.runtime
    helpers = rt.execute(HELPERS)
    cw = engine.K.cwork
    raw = cw.c
    ns_instr, instr = helpers.instr_ns(200_000 if args.quick else 2_000_000)
    print(f"ns per VM instruction: {ns_instr:.3f} (typical loop, {instr} instructions)")
    print(f"budget of 200M instructions = {ns_instr * 0.2:.2f} s\n")
    print(f"{'weight':<12} {'ns/unit':>8} {'measured':>9} {'cwork.W':>8}  what")
    for name, code, what in CALIBRATE:
        thunk, units = rt.eval(code)(raw)
        secs = helpers.time(thunk, reps)
        ns_unit = secs * 1e9 / units
        used = cw.W[name.encode()]
        flag = "" if used >= ns_unit / ns_instr * 0.8 else "   << below measured"
        print(f"{name:<12} {ns_unit:8.3f} {ns_unit / ns_instr:9.3f} {used:8.3f}  {what}{flag}")

    print(f"\n{'everyday call':<26} {'C (M/s)':>8} {'wrapper':>8} {'ratio':>6}")
    n = 20_000 if args.quick else 200_000
    # charges count as inside a step (K.loading), with the budget reset between loops
    engine.K.loading = True
    try:
        for label, lib, body in OVERHEAD:
            fname = OVERHEAD_FN[label]
            loop = rt.eval(f"function(f, N) {body} end")
            c_fn = raw[RAW_NAME.get(label, fname).encode()]
            w_fn = cw[lib.encode()][fname.encode()]
            ratios, c_rates, w_rates = [], [], []
            for _ in range(reps):
                engine.K.reset_budget()
                tc = helpers.time(lambda loop=loop, f=c_fn: loop(f, n), 1)
                engine.K.reset_budget()
                tw = helpers.time(lambda loop=loop, f=w_fn: loop(f, n), 1)
                ratios.append(tw / tc)
                c_rates.append(n / tc / 1e6)
                w_rates.append(n / tw / 1e6)
            print(
                f"{label:<26} {statistics.median(c_rates):8.2f} "
                f"{statistics.median(w_rates):8.2f} {statistics.median(ratios):6.2f}"
            )
    finally:
        engine.K.loading = False


if __name__ == "__main__":
    main()
