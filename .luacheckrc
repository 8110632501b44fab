-- luacheck configuration for every Lua file of the repository (`luacheck .`, run by .ci/run).
--
-- Two kinds of Lua live here:
--   * entry code (apps, tests, examples, benchmarks) runs inside the sandbox and sees only
--     the globals listed in docs/sandbox.md ("What Lua code can reach"), which
--     runtime/lua/sandbox.lua builds as BASE;
--   * the trusted files (runtime/lua/, hosts/*.lua, hosts/temporal/ops.lua, modules/) are
--     loaded by runtime/_engine.py with the real Lua 5.4 standard library (docs/design.md,
--     "The Lua side of the seam").

-- What entry code sees: BASE of runtime/lua/sandbox.lua.
stds.orrery_sandbox = {
  read_globals = {
    -- base functions (`print` writes an info log line)
    "assert", "error", "type", "tostring", "tonumber", "select", "ipairs", "pairs", "next",
    "rawequal", "rawlen", "rawget", "rawset", "getmetatable", "setmetatable", "pcall", "xpcall",
    "unpack", "print", "_VERSION",
    -- set per process (runtime/lua/sandbox.lua, the env factory)
    "require", "_G",
    -- read-only copies of the libraries
    string = {fields = {
      "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match", "pack",
      "packsize", "rep", "reverse", "sub", "unpack", "upper",  -- no string.dump
    }},
    table = {fields = {"concat", "insert", "move", "pack", "remove", "sort", "unpack"}},
    math = {fields = {
      "abs", "ceil", "cos", "deg", "exp", "floor", "fmod", "huge", "log", "max", "maxinteger",
      "min", "mininteger", "modf", "pi", "rad", "random", "randomseed", "sin", "sqrt",
      "tointeger", "type", "ult", "atan", "acos", "asin", "tan",
    }},
    utf8 = {fields = {"char", "charpattern", "codepoint", "codes", "len", "offset"}},
    coroutine = {fields = {
      "close", "create", "isyieldable", "resume", "running", "status", "wrap", "yield",
      "spawn",  -- orrery's own (docs/sandbox.md)
    }},
    os = {fields = {"clock", "date", "difftime", "time"}},  -- only these four
    -- the modules that are globals; the others come through require
    "process", "channel", "errors", "payload",
  },
}

std = "orrery_sandbox"

-- Style settings, not findings:
-- the longest lines of the Lua code are 138 characters (error messages kept on one line)
max_line_length = 140
-- callbacks and handlers keep their whole signature, used or not
unused_args = false

-- The trusted files: the real standard library.
local trusted = {std = "lua54"}
files["runtime/lua/"] = trusted
files["hosts/native.lua"] = trusted
files["hosts/temporal/ops.lua"] = trusted
files["modules/"] = trusted

exclude_files = {".venv/", ".ci/", "build/"}

-- Entry code whose globals are the point: a process's globals are its own (docs/sandbox.md).
files["tests/conformance/apps/funcs/counter.lua"] = {globals = {"COUNT"}}
files["tests/reliability/apps/memory/procs.lua"] = {
  globals = {"big"},
  ignore = {"241/t"},  -- grow() fills a table nobody reads: it exists to use memory
}
-- Probes of the sandbox: they reach for what must be missing and write to what is read-only.
files["tests/conformance/apps/sandbox/"] = {ignore = {"1"}}
files["tests/reliability/apps/escape/"] = {
  ignore = {
    "1",
    "211/x",  -- `local x <close>`: the variable exists for its __close
    "311/s",  -- `s = nil` drops the reference to a huge string
  },
}
-- pattern_gmatch returns on its first match: the cost being tested is finding it
files["tests/conformance/apps/runaway/procs.lua"] = {ignore = {"512"}}
