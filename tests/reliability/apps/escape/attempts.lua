-- Escape attempts. Each returns nil when it gained nothing, or a string naming what it reached;
-- raising is a refusal. main(name) runs one and reports {escaped = string|false, error = text}.
local A = {}

local MODULE_NAMES = {"process", "channel", "time", "funcs", "json", "uuid", "crypto", "ctx",
                      "payload", "errors", "logger", "workflow"}

-- names that only exist on tables user code must never see
local SMELL = {
  sethook = "debug", getregistry = "debug", getupvalue = "debug", loadlib = "package",
  searchers = "package", cpath = "package", execute = "os", getenv = "os",
  popen = "io", eval = "python", builtins = "python", set_env_factory = "kernel",
  new_process = "kernel", define_entry = "kernel", PROTECTED_MTS = "kernel", proxies = "kernel",
  ext_send = "host ops", dump = "string.dump", loadstring = "load", dofile = "dofile",
  collectgarbage = "collectgarbage", rawmt = "kernel",
}

local function modules()
  local t = {}
  for _, name in ipairs(MODULE_NAMES) do t[name] = require(name) end
  return t
end

-- every value reachable from `roots` through pairs and getmetatable
local function walk(roots)
  local seen, queue, n = {}, {}, 0
  local function push(v, path)
    if v ~= nil and not seen[v] and (type(v) == "table" or type(v) == "userdata") then
      seen[v] = true
      n = n + 1
      queue[n] = {v, path}
    elseif type(v) == "userdata" then
      seen[v] = true
    end
  end
  for k, v in pairs(roots) do push(v, tostring(k)) end
  local i = 0
  while i < n do
    i = i + 1
    local v, path = queue[i][1], queue[i][2]
    if type(v) == "userdata" then return "userdata (a host object) at " .. path end
    for k, x in pairs(v) do
      if type(k) == "string" and SMELL[k] then return SMELL[k] .. " table at " .. path .. "." .. k end
      if type(x) == "userdata" or type(k) == "userdata" then return "userdata at " .. path .. "." .. tostring(k) end
      push(k, path .. "[key]")
      push(x, path .. "." .. tostring(k))
    end
    local mt = getmetatable(v)
    if type(mt) == "table" then push(mt, "getmetatable(" .. path .. ")") end
  end
  return nil
end

-- Python bridge --------------------------------------------------------------
function A.python_globals()
  for _, name in ipairs({"python", "lupa", "py", "_python", "builtins", "eval"}) do
    if _G[name] ~= nil or rawget(_G, name) ~= nil then return "global " .. name end
  end
end
function A.python_require()
  for _, name in ipairs({"python", "lupa", "lupa.lua54", "_G", "debug", "io", "package", "ffi",
                         "socket", "lfs", "os.execute", "./x", "../kernel"}) do
    local ok = pcall(require, name)
    if ok then return "require " .. name end
  end
end
function A.python_eval_via_string_methods()
  local s = "python"
  if s.eval or s.exec or s.builtins then return "python through string methods" end
end
function A.walk_globals_and_modules()
  local roots = modules()
  roots._G = _G
  roots.string, roots.table, roots.math, roots.os, roots.utf8, roots.coroutine =
    string, table, math, os, utf8, coroutine
  return walk(roots)
end
function A.walk_runtime_objects()
  local time, funcs, uuid = require("time"), require("funcs"), require("uuid")
  local objs = {
    channel = channel.new(1), inbox = process.inbox(), events = process.events(),
    listen = process.listen("t"), err = errors.new({kind = "NotFound", message = "m"}),
    payload = payload.new({1, {2}}), spawner = process.with_options({}),
    executor = funcs.new(), timer = time.after("1h"),
    case = channel.new(0):case_receive(), uuid = uuid.v4(),
  }
  local found = walk(objs)
  if found then return found end
  for k, v in pairs(objs) do
    if type(v) == "table" and next(v) ~= nil then return "pairs reveals the inside of " .. k end
  end
end

-- Removed libraries ------------------------------------------------------------------
function A.os_functions()
  for _, name in ipairs({"execute", "getenv", "remove", "rename", "exit", "tmpname", "setlocale"}) do
    if os[name] ~= nil then return "os." .. name end
  end
  os.execute("touch /tmp/orrery-escaped")
end
function A.io_and_friends()
  for _, name in ipairs({"io", "debug", "package", "load", "loadstring", "dofile", "loadfile",
                         "collectgarbage", "module", "newproxy", "setfenv", "getfenv", "jit"}) do
    if _G[name] ~= nil then return name end
  end
  return io.open("/etc/passwd")
end
function A.collectgarbage_via_require()
  local ok = pcall(require, "collectgarbage")
  if ok then return "collectgarbage" end
  collectgarbage("stop")
end
function A.bytecode_dump()
  if string.dump then return "string.dump" end
  return string.dump(function() end)
end
function A.bytecode_through_string_methods()
  local f = ("").dump
  if f then return "(''):dump" end
end
function A.package_loaded_through_require_upvalues()
  -- require is a plain function here; it cannot hand out package.loaded
  local ok = pcall(require, "package.loaded")
  if ok then return "package.loaded" end
  if type(require) ~= "function" then return "require is not a function" end
end

-- Globals and shared tables --------------------------------------------------------------
function A.set_globals()
  leak = "from attempt"
  _G.python = "from attempt"
  rawset(_G, "x", "from attempt")
  _ENV.print2 = print
end
function A.env_metatable()
  local mt = getmetatable(_G)
  if type(mt) == "table" then
    mt.__index = {poisoned = true}
    return "the env metatable is a table"
  end
  setmetatable(_G, {__index = function() return "poisoned" end})
end
function A.env_metatable_index_write()
  local ok = pcall(function() getmetatable(_G).__index.tostring = function() return "p" end end)
  if ok then return "wrote through getmetatable(_G)" end
end
function A.string_library_writes()
  local tries = {
    function() string.upper = function() return "poisoned" end end,
    function() string.poisoned = true end,
    function() rawset(string, "upper", print) end,
    function() setmetatable(string, {}) end,
    function() table.insert = nil end,
    function() math.pi = 3 end,
    function() os.time = nil end,
    function() coroutine.wrap = nil end,
    function() utf8.char = nil end,
  }
  for i, f in ipairs(tries) do
    if pcall(f) then return "library write " .. i .. " succeeded" end
  end
end
function A.string_metatable()
  local mt = getmetatable("")
  if type(mt) == "table" then
    mt.__index = {upper = function() return "poisoned" end}
    return "the string metatable is a table"
  end
  local ok = pcall(function() getmetatable("").__index.upper = print end)
  if ok then return "wrote through the string metatable" end
  ok = pcall(function() ("x").upper = print end)
  if ok then return "assigned a string method" end
end
function A.string_metatable_via_rawget()
  if rawget(string, "upper") ~= nil then return "rawget on the string proxy" end
  local ok = pcall(rawset, string, "upper", print)
  if ok then return "rawset on the string proxy" end
end
function A.table_functions_on_shared_tables()
  local tries = {
    function() table.insert(process.event, "x") end,
    function() table.sort(string) end,
    function() table.move({1, 2}, 1, 2, 1, math) end,
    function() table.remove(os) end,
  }
  for i, f in ipairs(tries) do pcall(f) end
  if process.event.EXIT ~= "pid.exit" or math.floor == nil then return "changed a shared table" end
end
function A.module_writes()
  local tries = {
    function() process.send = print end,
    function() process.event.EXIT = "x" end,
    function() errors.new = nil end,
    function() channel.new = nil end,
    function() require("json").encode = nil end,
    function() require("crypto").random.bytes = nil end,
    function() rawset(process, "send", print) end,
    function() setmetatable(process, nil) end,
    function() process.registry.register = nil end,
    function() payload.format.LUA = "x" end,
  }
  for i, f in ipairs(tries) do
    if pcall(f) then return "module write " .. i .. " succeeded" end
  end
end
function A.module_metatables()
  for _, name in ipairs(MODULE_NAMES) do
    local mt = getmetatable(require(name))
    if type(mt) == "table" then
      local ok = pcall(function() mt.__index = {} end)
      if ok then return "changed the metatable of " .. name end
    end
  end
end

-- Runtime objects ---------------------------------------------------------------------------
function A.forge_error_object()
  local e = errors.new({kind = "NotFound", message = "m"})
  local mt = getmetatable(e)
  if type(mt) == "table" then return "error metatable is a table" end
  local ok = pcall(setmetatable, {}, mt)
  if ok then return "setmetatable with the error metatable" end
  ok = pcall(function() e.kind = function() return "Forged" end end)
  if ok then return "wrote to an error object" end
  if e:kind() ~= "NotFound" then return "changed an error" end
  local ok2, k = pcall(e.kind, {})
  if ok2 then return "error:kind accepted a forged table (" .. tostring(k) .. ")" end
end
function A.forge_channel_and_messages()
  local ch = channel.new(1)
  local tries = {
    function() return ch.send({}, 1) end,
    function() return ch.receive({}) end,
    function() return ch.close(setmetatable({}, {__index = ch})) end,
    function() return process.inbox().receive({}) end,
    function() return payload.new(1).data({}) end,
    function() return channel.select({{}}) end,
    function() return channel.select({setmetatable({}, {__index = function() return 1 end})}) end,
  }
  for i, f in ipairs(tries) do
    if pcall(f) then return "forged argument " .. i .. " accepted" end
  end
end
function A.runtime_object_writes()
  local ch = channel.new(1)
  local tries = {
    function() ch.send = print end,
    function() rawset(ch, "x", 1) end,
    function() setmetatable(ch, {}) end,
    function() local p = payload.new({1}); p.data = print end,
  }
  for i, f in ipairs(tries) do
    if pcall(f) then return "runtime object write " .. i .. " succeeded" end
  end
end
function A.gc_finalisers()
  local tries = {
    function() setmetatable({}, {__gc = function() leak = true end}) end,
    function() setmetatable({}, {__gc = false}) end,
  }
  for i, f in ipairs(tries) do
    if pcall(f) then return "__gc finaliser " .. i .. " accepted" end
  end
  -- a __gc added after setmetatable is never registered by Lua
  local mt = {}
  setmetatable({}, mt)
  mt.__gc = function() leak = "finaliser ran" end
end
function A.close_metamethod_loops()
  local x <close> = setmetatable({}, {__close = function() while true do end end})
  error("leave the scope")
end
function A.metamethods_that_raise()
  local bad = setmetatable({}, {
    __index = function() error("index") end, __newindex = function() error("newindex") end,
    __eq = function() error("eq") end, __lt = function() error("lt") end,
    __len = function() error("len") end, __call = function() error("call") end,
    __tostring = function() error("tostring") end, __concat = function() error("concat") end,
  })
  for _, f in ipairs({function() return bad.x end, function() bad.x = 1 end,
                      function() return bad == setmetatable({}, getmetatable(bad)) end,
                      function() return bad < bad end, function() return #bad end,
                      function() return bad() end, function() return tostring(bad) end,
                      function() return bad .. "x" end, function() return process.send(bad, "t") end,
                      function() return errors.new(bad) end, function() return payload.new(bad) end,
                      function() return require("json").encode(bad) end}) do
    pcall(f)
  end
end
function A.metamethods_that_yield()
  local y = setmetatable({}, {
    __index = function() coroutine.yield("i") end,
    __tostring = function() coroutine.yield("t") end,
    __lt = function() return require("time").sleep("1ms") end,
  })
  pcall(function() return y.x end)
  pcall(tostring, y)
  pcall(table.sort, {y, y, y})
  pcall(string.gsub, "abc", ".", function() process.inbox():receive() end)
  pcall(table.sort, {3, 2, 1}, function(a, b) require("time").sleep("1ms") return a < b end)
end
function A.raise_table_with_metatable()
  error(setmetatable({}, {__tostring = function() coroutine.yield() end,
                          __index = function() error("again") end}))
end
function A.raise_runtime_object()
  error(process.inbox())
end
function A.xpcall_handlers()
  xpcall(error, function() error("handler fails") end, "x")
  xpcall(error, function() coroutine.yield() end, "x")
  xpcall(error, function(e) return setmetatable({}, {__gc = print}) end, "x")
  local ok = pcall(xpcall, error, 42, "x")
  if ok then return "xpcall accepted a number handler" end
  xpcall(error, function() while true do end end, "x")
end

-- Coroutines ------------------------------------------------------------------------------
function A.resume_kernel_coroutine()
  local me = coroutine.running()
  local tries = {
    function() return coroutine.resume(me) end,
    function() return coroutine.close(me) end,
    function() return coroutine.yield("fake") end,
    function() return coroutine.wrap(function() coroutine.resume(me) end)() end,
  }
  for i, f in ipairs(tries) do
    local ok, r = pcall(f)
    if ok and r ~= false then return "kernel coroutine trick " .. i .. " worked" end
  end
end
function A.resume_spawned_coroutine()
  local got
  local gate = channel.new(0)
  coroutine.spawn(function()
    got = coroutine.running()
    gate:receive()   -- blocked inside the kernel: resuming it by hand would corrupt the scheduler
  end)
  require("time").sleep("1ms")
  local ok, resumed = pcall(coroutine.resume, got)
  if ok and resumed then return "resumed a spawned coroutine" end
  ok = pcall(coroutine.close, got)
  if ok then return "closed a spawned coroutine" end
  gate:send(1)
end
function A.yield_through_user_coroutines()
  local co = coroutine.wrap(function()
    local inner = coroutine.wrap(function() coroutine.yield(coroutine.running()) end)
    local th = inner()
    return pcall(coroutine.resume, th)
  end)
  co()
end

-- Resource abuse ---------------------------------------------------------------------------
function A.huge_string_rep() return #string.rep("x", 1 << 40) end
function A.huge_format() return string.format("%099999999d", 1) end
function A.pack_and_unpack() return string.unpack("i17", string.pack("i16", 1)) end
function A.deep_recursion() local function f() return 1 + f() end return f() end
function A.deep_table_into_send()
  local deep = {}
  for _ = 1, 100000 do deep = {deep} end
  local cyc = {}
  cyc.self = cyc
  for _, v in ipairs({deep, cyc, {print}, {coroutine.create(print)}, {[{}] = 1}}) do
    local ok, sent = pcall(process.send, process.pid(), "self", v)
    if ok and sent then return "an unsendable value was sent" end
  end
end
function A.random_seeding()
  math.randomseed(1)
  math.random = nil
end
function A.os_date_formats()
  for _, f in ipairs({"%Ez", "%", "%Q", string.rep("%c", 10000), "!*t", "*t"}) do
    pcall(os.date, f)
  end
  pcall(os.date, "*t", math.maxinteger)
  pcall(os.time, {year = 1 << 62, month = 1, day = 1})
end
function A.spin_loop() while true do end end

-- Issue #17 -------------------------------------------------------------------
-- A raised value's metamethods must never run on the node's main thread (the kernel compares
-- it with its kill marker): one that loops would freeze the node, one that yields crash it.
local function raise_with_eq(eq)
  local a = setmetatable({}, {__eq = eq, __tostring = eq, __name = "x", __len = eq,
                              __index = eq, __concat = eq, __lt = eq, __le = eq})
  error(a)
end
function A.raise_table_whose_eq_loops() raise_with_eq(function() while true do end end) end
function A.raise_table_whose_eq_yields() raise_with_eq(function() coroutine.yield(1) end) end
function A.raise_table_whose_eq_waits()
  local time = require("time")
  raise_with_eq(function() time.sleep("1ms") return true end)
end
function A.pcall_table_whose_eq_loops()
  -- the kill-aware pcall looks at what was raised
  local ok = pcall(raise_with_eq, function() while true do end end)
  if ok then return "pcall returned true" end
  local ok2 = xpcall(raise_with_eq, function(e) return e end, function() while true do end end)
  if ok2 then return "xpcall returned true" end
end

-- Durations the host's timer cannot hold: NaN, beyond int64 nanoseconds, 1e300.
function A.nan_and_huge_durations()
  local time, funcs = require("time"), require("funcs")
  local bad = {0 / 0, math.maxinteger, 1e300, -1e300, math.huge}
  for _, d in ipairs(bad) do
    local f, err = funcs.new():with_options({timeout = d})
    if f then
      local _, cerr = f:call("t.escape:attempt_names")
      if not cerr then return "a call with timeout " .. tostring(d) .. " ran" end
    elseif not tostring(err:message()):find("out of range") and not tostring(err:message()):find("NaN") then
      return "unclear error for timeout " .. tostring(d) .. ": " .. err:message()
    end
    local done, cerr2 = process.cancel(process.pid(), "", {deadline = d})
    if done then return "a cancel with deadline " .. tostring(d) .. " was accepted" end
    local _ = cerr2
    pcall(time.after, d)   -- a number is nanoseconds here: math.maxinteger is a valid 292 years
  end
  -- the timer loop still runs: a short sleep returns
  time.sleep("1ms")
  local r = channel.select({time.after("1ms"):case_receive()})
  if not r.ok then return "timers stopped" end
end

-- A user coroutine waiting inside an orrery call cannot be resumed by hand with forged
-- results: only the wake-up resumes it.
function A.resume_a_coroutine_waiting_in_a_call()
  local ch = channel.new()
  local co = coroutine.create(function() return ch:receive() end)
  local forged
  coroutine.spawn(function()
    local ok = pcall(coroutine.resume, co, "forged", true)
    if ok and coroutine.status(co) ~= "suspended" then forged = "resumed by hand" end
    local closed = pcall(coroutine.close, co)
    if closed then forged = "closed by hand" end
    ch:send("real")
  end)
  local ok, value = coroutine.resume(co)
  if forged then return forged end
  if not ok or value ~= "real" then return "the receive returned " .. tostring(value) end
end

-- err:details() hands out a copy: a function put into it cannot turn a failure into a normal
-- exit on the way to the watchers.
function A.error_details_with_a_function()
  local e = errors.new({message = "boom", details = {a = 1}})
  local d = e:details()
  d.f = function() end
  d.a = 2
  if e:details().f ~= nil or e:details().a ~= 1 then return "error details changed in place" end
end

-- os.date / os.time errors name the user's call, not the sandbox's internals.
function A.os_date_errors_name_internals()
  for _, call in ipairs({function() local v = os.date("%Ez"); return v end,
                         function() local v = os.date("*t", 1e300); return v end,
                         function() local v = os.time({year = "x", month = 1, day = 1}); return v end,
                         function() return pcall(os.date, "%Ez") end}) do
    local ok, err, inner = pcall(call)
    if ok and err == false then err = inner; ok = false end   -- the pcall(os.date) form
    if ok then return "os.date/os.time accepted a bad argument" end
    if tostring(err):find("sandbox") or tostring(err):find("real_") then return tostring(err) end
  end
end

-- Instructions that each do much work in C: the step's CPU time bounds them too.
function A.concat_long_strings_in_a_loop()
  local s = ("x"):rep(1 << 20)
  while true do local _ = s .. s end
end
function A.lookups_through_a_deep_index_chain()
  local t = {}
  for _ = 1, 1990 do t = setmetatable({}, {__index = t}) end
  while true do local _ = t.missing end
end

local function run(name)
  local f = A[name]
  if not f then error("no attempt named " .. tostring(name)) end
  local ok, res = pcall(f)
  if ok then return {escaped = res or false} end
  local msg = (type(res) == "table" and getmetatable(res) == "error") and res:message()
    or type(res) == "string" and res or "(a " .. type(res) .. " was raised)"
  return {escaped = false, error = msg}
end

return {main = run, names = function()
  local t = {}
  for k in pairs(A) do t[#t + 1] = k end
  table.sort(t)
  return t
end}
