"""Cost of the bounded pattern wrappers against Lua's C functions, in the same run.

Usage::

    python bench/patterns.py            # about 10 s
    python bench/patterns.py --quick

Each row times a loop of calls of one typical pattern through the sandbox wrapper
(``K.patterns``) and through the C function directly, in one engine, alternating, and
reports the median ratio wrapper / C (1.0 = free).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from orrery.hosts._native import standalone_engine
from orrery.runtime._engine import LuaEngine

LOOP = """
function(lib, fname, n, s, p, r)
  local f = lib[fname]
  if fname == "gmatch" then
    for _ = 1, n do for _ in f(s, p) do end end
  elseif fname == "gsub" then
    for _ = 1, n do f(s, p, r) end
  else
    for _ = 1, n do f(s, p) end
  end
end
"""

CASES: list[tuple[str, str, str, Any]] = [
    ("match", "key=value", "^(%w+)=(%w+)$", None),
    ("match", "  some padded text \t", "^%s*(.-)%s*$", None),
    ("find", "the quick brown fox jumps", "fox", None),
    ("find", "the quick brown fox jumps", "%d+", None),
    ("gmatch", "the quick brown fox jumps over the lazy dog", "%a+", None),
    ("gsub", "the quick brown fox jumps over the lazy dog", "%s+", "_"),
    ("gsub", "the quick brown fox jumps over the lazy dog", "%w+", "fn"),
]


def _engine() -> LuaEngine:
    return standalone_engine("bench")


def main() -> None:
    """Prints one row per case: calls per second through each, and the ratio."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    n = 2_000 if args.quick else 20_000
    engine = _engine()
    loop = engine.runtime.eval(LOOP)
    upper = engine.runtime.eval("function(w) return w:upper() end")
    wrapped, c = engine.K.patterns, engine.K.patterns.c
    print(f"{'case':<44} {'C calls/s':>12} {'wrapper/s':>12} {'ratio':>6}")
    ratios = []
    for fname, s, p, r in CASES:
        repl = upper if r == "fn" else (r.encode() if r else None)
        times: dict[str, list[float]] = {"c": [], "w": []}
        for _ in range(args.reps):
            for key, lib in (("c", c), ("w", wrapped)):
                t0 = time.perf_counter()
                loop(lib, fname.encode(), n, s.encode(), p.encode(), repl)
                times[key].append(time.perf_counter() - t0)
        tc, tw = statistics.median(times["c"]), statistics.median(times["w"])
        ratios.append(tw / tc)
        label = f"{fname} {p!r}" + (f" -> {r}" if r else "")
        print(f"{label:<44} {n / tc:>12,.0f} {n / tw:>12,.0f} {tw / tc:>6.2f}")
    print(f"{'median ratio':<70} {statistics.median(ratios):>6.2f}")


if __name__ == "__main__":
    main()
