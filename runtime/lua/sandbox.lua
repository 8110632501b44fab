-- orrery sandbox: the environment user code runs in.
--
-- Trusted code, called with (K, H, modules) after the host ops and modules are
-- loaded; it installs K's environment factory. What user code can reach:
--   * a per-process env table (its globals), whose metatable indexes BASE;
--   * BASE: safe base functions and read-only proxies of the libraries;
--   * module tables (read-only proxies) through require.
-- Nothing else: no Python object, no kernel table, no real library table, no
-- io/debug/package/load, no bytecode, no __gc finalisers.

local K, H, modules, config = ...

local rawmt = debug.getmetatable
local setmetatable, getmetatable, type, next, error, tostring, select =
  setmetatable, getmetatable, type, next, error, tostring, select
local rawget, rawset, rawequal, rawlen, pcall, xpcall, ipairs, pairs =
  rawget, rawset, rawequal, rawlen, pcall, xpcall, ipairs, pairs
local co_create, co_resume, co_yield, co_status, co_running, co_close, co_isyieldable =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.running,
  coroutine.close, coroutine.isyieldable
local SUSPEND, KILL = K.SUSPEND, K.KILL
local PROTECTED = K.PROTECTED_MTS        -- raw metatables of kernel objects
local invalid = K.invalid

-- Read-only proxies ---------------------------------------------------------

local proxies = K.proxies            -- read-only proxy -> real table
local readonly = K.readonly

local function protected(t)
  local mt = rawmt(t)
  return mt ~= nil and PROTECTED[mt] == true
end

-- The string metatable: method calls on strings keep working, but user code
-- cannot reach the real string table through it.
-- The pattern functions are the bounded wrappers of patterns.lua (the C ones
-- can run for hours inside one call, unseen by the instruction budget), and the
-- functions whose C work grows with their arguments are the charged wrappers of
-- cwork.lua (docs/sandbox.md, "C library work"). The methods table is a private
-- copy, so trusted code keeps the real library.
string.dump = nil -- luacheck: ignore 122 (no bytecode for anyone: docs/sandbox.md)

local function copy_lib(lib, except)
  local t = {}
  for k, v in pairs(lib) do
    if not (except and except[k]) then t[k] = v end
  end
  return t
end

-- a copy of `lib` with the wrappers of `over` in place of the real functions
local function wrapped_lib(lib, over)
  local t = copy_lib(lib)
  for k, v in pairs(over) do t[k] = v end
  return t
end

local CWORK = K.cwork
local STRING = wrapped_lib(string, CWORK.methods)     -- s:rep(n): method-call errors
local STRING_LIB = wrapped_lib(string, CWORK.string)  -- string.rep(s, n)
for _, k in ipairs({"find", "match", "gmatch", "gsub"}) do
  STRING[k] = K.patterns[k]
  STRING_LIB[k] = K.patterns[k]
end
do
  local smt = getmetatable("")
  smt.__index = STRING
  smt.__metatable = "string"
end

-- Kill-aware protected calls --------------------------------------------------

local MEMERR = K.MEMERR

local function reraise_if_killed(ok, ...)
  if not ok then
    local proc = K.current()
    local e = (...)
    -- rawequal: a raised table's __eq must not run here (docs/sandbox.md, "Metamethods")
    if rawequal(e, MEMERR) and proc then
      -- the state ran out of memory while this process ran: the process ends
      proc.killed = proc.killed or "memory"
    end
    if (proc and proc.killed) or rawequal(e, KILL) then error(KILL, 0) end
  end
  return ok, ...
end

local function safe_pcall(f, ...)
  return reraise_if_killed(pcall(f, ...))
end

local function safe_xpcall(f, handler, ...)
  if type(handler) ~= "function" then invalid("xpcall expects a function as its message handler", 2) end
  local function h(e)
    if rawequal(e, KILL) then return KILL end
    local proc = K.current()
    if proc and proc.killed then return KILL end
    return handler(e)
  end
  return reraise_if_killed(xpcall(f, h, ...))
end

-- Raw access and metatables ---------------------------------------------------

local function safe_rawset(t, k, v)
  if type(t) ~= "table" then invalid("rawset expects a table", 2) end
  if protected(t) then invalid("rawset cannot modify a shared or runtime object", 2) end
  return rawset(t, k, v)
end

local function safe_rawget(t, k)
  if type(t) ~= "table" then invalid("rawget expects a table", 2) end
  if protected(t) then return nil end
  return rawget(t, k)
end

local function safe_next(t, k)
  if type(t) ~= "table" then invalid("next expects a table", 2) end
  if protected(t) then
    local real = proxies[t]
    if real then return next(real, k) end
    return nil
  end
  return next(t, k)
end

local function safe_pairs(t)
  if type(t) ~= "table" then
    invalid("bad argument to pairs (table expected, got " .. type(t) .. ")", 2)
  end
  local real = proxies[t]
  if real then return next, real, nil end
  if protected(t) then return next, {}, nil end
  local mt = rawmt(t)
  local mp = mt and rawget(mt, "__pairs")
  if mp then return mp(t) end
  return next, t, nil
end

local function safe_setmetatable(t, mt)
  if type(t) ~= "table" then invalid("setmetatable expects a table", 2) end
  if protected(t) then invalid("setmetatable cannot change a shared or runtime object", 2) end
  if mt ~= nil then
    if type(mt) ~= "table" then invalid("setmetatable expects a table or nil as metatable", 2) end
    if protected(mt) or PROTECTED[mt] then invalid("setmetatable cannot use a runtime metatable", 2) end
    if rawget(mt, "__gc") ~= nil then invalid("__gc metamethods are not allowed", 2) end
  end
  return setmetatable(t, mt)
end

-- Coroutines --------------------------------------------------------------------
-- User coroutines get the budget hook too, and the kernel's own suspensions
-- (SUSPEND) are forwarded through user resumes so that blocking calls work
-- inside them. Kernel-driven coroutines cannot be resumed by user code.

local function check_user_thread(co, fn)
  if type(co) ~= "thread" then invalid("coroutine." .. fn .. " expects a coroutine", 3) end
  if K.is_kernel_thread(co) then
    invalid("coroutine." .. fn .. ": this coroutine is managed by orrery (started with coroutine.spawn)", 3)
  end
end

-- User coroutines suspended inside a blocking orrery call: only the wake-up may resume them
-- (a resume by hand would hand the call forged results).
local waiting = setmetatable({}, {__mode = "k"})

local function forward(co, ok, ...)
  if ok and rawequal((...), SUSPEND) and co_status(co) == "suspended" then
    -- a blocking orrery call inside co: suspend the kernel coroutine that
    -- resumed us, then resume co with the wake values.
    local proc = K.current()
    local cr = proc and proc.active
    waiting[co] = true
    local a, b = co_yield(SUSPEND)
    waiting[co] = nil
    proc = K.current()
    if proc then proc.active = cr end
    return forward(co, co_resume(co, a, b))
  end
  return reraise_if_killed(ok, ...)
end

local function check_not_waiting(co, fn)
  if waiting[co] then
    invalid("coroutine." .. fn .. ": this coroutine is waiting inside an orrery call " ..
            "(a channel, message, timer or call); it resumes when that completes", 3)
  end
end

local function safe_resume(co, ...)
  check_user_thread(co, "resume")
  check_not_waiting(co, "resume")
  local proc = K.current()
  if proc then
    local cr = K.current_cr()
    proc.active = cr
  end
  return forward(co, co_resume(co, ...))
end

local function safe_create(fn)
  if type(fn) ~= "function" then invalid("coroutine.create expects a function", 2) end
  local co = co_create(fn)
  K.arm(co)
  return co
end

local function safe_yield(...)
  local th = co_running()
  if K.is_kernel_thread(th) then
    invalid("coroutine.yield: attempt to yield from outside a coroutine", 2)
  end
  return co_yield(...)
end

local function safe_wrap(fn)
  local co = safe_create(fn)
  return function(...)
    local function unwrap(ok, ...)
      if not ok then error((...), 0) end
      return ...
    end
    return unwrap(safe_resume(co, ...))
  end
end

local function safe_close(co)
  check_user_thread(co, "close")
  check_not_waiting(co, "close")
  return co_close(co)
end

local coroutine_lib = {
  create = safe_create,
  resume = safe_resume,
  yield = safe_yield,
  status = co_status,
  running = co_running,
  isyieldable = co_isyieldable,
  wrap = safe_wrap,
  close = safe_close,
  spawn = function(fn)
    if type(fn) ~= "function" then invalid("coroutine.spawn expects a function", 2) end
    return K.spawn_coroutine(fn)
  end,
}

-- Deterministic iteration (workflow states) ------------------------------------------
-- Lua 5.4 seeds string hashing per state, so raw `next` order can differ between
-- a run and its replay. In deterministic states `pairs`/`next` visit the array
-- part 1..n first, then the other keys sorted: numbers ascending, strings by
-- bytes, false before true, other keys by type name (docs/reference/temporal.md, "Determinism").

local RANK = {number = 1, string = 2, boolean = 3}
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  local ra, rb = RANK[ta] or 4, RANK[tb] or 4
  if ra ~= rb then return ra < rb end
  if ra == 1 or ra == 2 then return a < b end
  if ra == 3 then return (not a) and b end
  return ta < tb
end

local function sorted_keys(t)
  local n = rawlen(t)
  local keys, rest, rn = {}, {}, 0
  for i = 1, n do keys[i] = i end
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      rn = rn + 1
      rest[rn] = k
    end
  end
  table.sort(rest, key_less)
  for i = 1, rn do keys[n + i] = rest[i] end
  return keys
end

local order_cache = setmetatable({}, {__mode = "k"})   -- table -> {keys, pos}

local function det_next(t, k)
  if type(t) ~= "table" then invalid("next expects a table", 2) end
  if protected(t) then
    local real = proxies[t]
    if not real then return nil end
    t = real
  end
  local c = order_cache[t]
  if k == nil or not c or not c.pos[k] then
    c = {keys = sorted_keys(t)}
    local pos = {}
    for i, key in ipairs(c.keys) do pos[key] = i end
    c.pos = pos
    order_cache[t] = c
  end
  local i = k == nil and 1 or c.pos[k] + 1
  local keys = c.keys
  while keys[i] ~= nil do
    local key = keys[i]
    local v = rawget(t, key)
    if v ~= nil then return key, v end
    i = i + 1
  end
  return nil
end

local function det_pairs(t)
  if type(t) ~= "table" then invalid("bad argument to pairs (table expected, got " .. type(t) .. ")", 2) end
  local real = proxies[t]
  if real then return det_next, real, nil end
  if protected(t) then return next, {}, nil end
  local mt = rawmt(t)
  local mp = mt and rawget(mt, "__pairs")
  if mp then return mp(t) end
  return det_next, t, nil
end

-- os and math ---------------------------------------------------------------------

local real_time, real_date, real_difftime = os.time, os.date, os.difftime

-- Called through pcall, the C functions report a bad argument without a location and by
-- their library name ('os.date'); re-raise that at the user's call instead of this file.
local function as_user_error(ok, ...)
  if ok then return ... end
  local msg = (...)
  if type(msg) ~= "string" or rawequal(msg, MEMERR) then error(msg, 0) end
  error(msg, 3)
end

local os_lib = {
  time = function(t)
    if t == nil then return H.now() // 1000000000 end
    local v = as_user_error(pcall(real_time, t))   -- not a tail call: level 3 is the caller
    return v
  end,
  date = function(fmt, t)
    if t == nil then t = H.now() // 1000000000 end
    local v = as_user_error(pcall(real_date, fmt, t))
    return v
  end,
  clock = function() return H.monotonic() end,
  difftime = real_difftime,
}

-- math.random with a per-process xoshiro256** stream seeded from the host's
-- random source (deterministic inside workflows). One process re-seeding its
-- stream never affects another.
local function rotl(x, n) return (x << n) | (x >> (64 - n)) end
local function rng_state(proc)
  local s = proc.rng
  if not s then
    local bytes = H.random_bytes(32)
    s = {string.unpack("<i8i8i8i8", bytes)}
    s[5] = nil
    if s[1] | s[2] | s[3] | s[4] == 0 then s[1] = 1 end
    proc.rng = s
  end
  return s
end
local function next64(s)
  local s0, s1, s2, s3 = s[1], s[2], s[3], s[4]
  local result = rotl(s1 * 5, 7) * 9
  local t = s1 << 17
  s2 = s2 ~ s0; s3 = s3 ~ s1; s1 = s1 ~ s2; s0 = s0 ~ s3; s2 = s2 ~ t; s3 = rotl(s3, 45)
  s[1], s[2], s[3], s[4] = s0, s1, s2, s3
  return result
end
local function project(ran, n)   -- uniform in [0, n] (n >= 0, unsigned compare)
  if n & (n + 1) == 0 then return ran & n end
  local lim = n
  lim = lim | (lim >> 1); lim = lim | (lim >> 2); lim = lim | (lim >> 4)
  lim = lim | (lim >> 8); lim = lim | (lim >> 16); lim = lim | (lim >> 32)
  return ran & lim   -- caller retries while > n
end

local math_lib = copy_lib(math)
math_lib.random = function(m, n)
  local proc = K.current()
  if not proc then invalid("math.random can only be used inside a process", 2) end
  local s = rng_state(proc)
  local rv = next64(s)
  local lo, up
  if m == nil then
    return (rv >> 11) * (0.5 / (1 << 52))
  elseif n == nil then
    if math.type(m) ~= "integer" then
      if math.type(m) == "float" and m == math.floor(m) then m = math.tointeger(m) else
        invalid("bad argument #1 to 'random' (number has no integer representation)", 2) end
    end
    if m == 0 then return rv end
    lo, up = 1, m
  else
    lo, up = math.tointeger(m), math.tointeger(n)
    if lo == nil or up == nil then invalid("bad argument to 'random' (number has no integer representation)", 2) end
  end
  if lo > up then invalid("bad argument to 'random' (interval is empty)", 2) end
  local span = up - lo
  local r = project(rv, span)
  while math.ult(span, r) do r = project(next64(s), span) end
  return lo + r
end
math_lib.randomseed = function(x, y)
  local proc = K.current()
  if not proc then invalid("math.randomseed can only be used inside a process", 2) end
  if x == nil then
    proc.rng = nil
    rng_state(proc)
    return
  end
  local n = math.tointeger(x) or string.unpack("<i8", string.pack("<d", x))
  proc.rng = {n, 0xff, math.tointeger(y) or 0, 0}
  for _ = 1, 16 do next64(proc.rng) end
end

-- print -----------------------------------------------------------------------------

-- The line is built and capped (at K.cwork.LOG_MAX bytes, with a marker) in
-- Lua before it reaches the host, and its building is charged to the budget
-- (docs/sandbox.md, "C library work").
local print_line = CWORK.print_line
local function safe_print(...)
  H.log("info", print_line(tostring, ...), nil)
end

-- BASE --------------------------------------------------------------------------------

local BASE = {
  assert = assert, error = error, type = type, tostring = tostring, tonumber = tonumber,
  select = select, ipairs = ipairs, rawequal = rawequal, rawlen = rawlen,
  getmetatable = getmetatable,
  pcall = safe_pcall, xpcall = safe_xpcall, next = safe_next, pairs = safe_pairs,
  rawget = safe_rawget, rawset = safe_rawset, setmetatable = safe_setmetatable,
  unpack = CWORK.table.unpack, print = safe_print,
  _VERSION = _VERSION,
}

if config and config.deterministic then
  BASE.pairs, BASE.next = det_pairs, det_next
end

local LIBS = {
  string = readonly(STRING_LIB, "string"),
  table = readonly(wrapped_lib(table, CWORK.table), "table"),
  math = readonly(math_lib, "math"),
  utf8 = readonly(wrapped_lib(utf8, CWORK.utf8), "utf8"),
  os = readonly(os_lib, "os"),
  coroutine = readonly(coroutine_lib, "coroutine"),
}
for k, v in pairs(LIBS) do BASE[k] = v end

-- Modules: every module table, and every plain table inside one (process.event,
-- crypto.random, ...), is exposed through a read-only proxy.
local function deep_readonly(t, name, seen)
  seen[t] = true
  for k, v in pairs(t) do
    if type(v) == "table" and rawmt(v) == nil and not seen[v] then
      t[k] = deep_readonly(v, name .. "." .. tostring(k), seen)
    end
  end
  return readonly(t, name)
end
local MODS = {}
for name, mod in pairs(modules) do
  MODS[name] = rawmt(mod) == nil and deep_readonly(mod, name, {}) or readonly(mod, name)
end
-- always available as globals and through require
local ALWAYS = {process = true, channel = true, errors = true, payload = true}
for name in pairs(ALWAYS) do BASE[name] = MODS[name] end

local function make_require(def)
  local allowed = def.allowed
  return function(name)
    if type(name) ~= "string" then invalid("require expects a module name", 2) end
    local m = MODS[name]
    if m and (ALWAYS[name] or allowed[name]) then return m end
    if name == "coroutine" or name == "string" or name == "table" or name == "math"
       or name == "utf8" or name == "os" then
      return LIBS[name]
    end
    error(K.error("Invalid", "module '" .. name .. "' is not allowed in " .. def.id, false), 2)
  end
end

local BASE_PROXY = readonly(BASE, "_G")
-- Shared by every process env, so it is locked: getmetatable(_G) answers "env"
-- and setmetatable(_G, ...) is refused.
local ENV_MT = {__index = BASE_PROXY, __metatable = "env"}

-- The environment of one process: private globals, shared read-only base.
K.set_env_factory(function(proc, def)
  local req = def.require
  if not req then
    req = make_require(def)
    def.require = req
  end
  local env = setmetatable({require = req}, ENV_MT)
  env._G = env
  return env
end)

-- An environment for loading-time checks of an entry (docs/reference/yaml-kinds.md, "Lua entries:
-- process.lua, workflow.lua, function.lua").
function K.scratch_env(def)
  return setmetatable({require = make_require(def), _G = nil}, ENV_MT)
end

K.BASE = BASE
return true
