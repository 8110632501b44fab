-- Processes under test for the sandbox (docs/reference/lua-modules.md, "Conventions", "Globals and
-- the sandbox").
local M = {}

-- the names from the list that are not nil
function M.removed()
  local present = {}
  local function check(name, v) if v ~= nil then present[#present + 1] = name end end
  check("python", python)
  check("io", io)
  check("debug", debug)
  check("package", package)
  check("load", load)
  check("loadstring", loadstring)
  check("loadfile", loadfile)
  check("dofile", dofile)
  check("collectgarbage", collectgarbage)
  check("string.dump", string.dump)
  check("os.execute", os.execute)
  check("os.getenv", os.getenv)
  check("os.remove", os.remove)
  check("os.rename", os.rename)
  check("os.exit", os.exit)
  check("os.tmpname", os.tmpname)
  check("require('python')", (pcall(require, "python")) or nil)
  check("require('io')", (pcall(require, "io")) or nil)
  check("require('debug')", (pcall(require, "debug")) or nil)
  return {
    present = present,
    os_time_works = math.type(os.time()) == "integer" and os.time() > 1600000000,
    os_clock_works = type(os.clock()) == "number",
    difftime = os.difftime(10, 4),
  }
end

-- tries to change the shared libraries in every way it can think of
function M.vandal()
  local tried = {}
  local function try(name, f) tried[name] = not pcall(f) end   -- true = raised
  try("string.x = 1", function() string.x = 1 end)
  try("string.upper = ...", function() string.upper = function() return "pwned" end end)
  try("table.insert = ...", function() table.insert = nil end)
  try("math.pi = 3", function() math.pi = 3 end)
  try("os.time = ...", function() os.time = function() return 0 end end)
  try("rawset(string, ...)", function() rawset(string, "rawx", 1) end)
  try("setmetatable(string, ...)", function()
    setmetatable(string, {__index = function() return "hacked" end})
  end)
  try("getmetatable('').__index.upper = ...", function()
    getmetatable("").__index.upper = function() return "pwned" end
  end)
  try("getmetatable('').__index = ...", function()
    getmetatable("").__index = {upper = function() return "pwned" end}
  end)
  try("process.send = ...", function() process.send = nil end)
  try("errors.new = ...", function() errors.new = nil end)
  try("coroutine.spawn = ...", function() coroutine.spawn = nil end)
  -- replacing a library in one's own globals is allowed and stays private
  string = {upper = function() return "private" end}
  return tried
end

-- tries to change every process's globals through the metatable of its own _G
function M.env_vandal()
  local tried = {}
  local mt = getmetatable(_G)
  if type(mt) ~= "table" then return {metatable_hidden = true} end
  local base = mt.__index
  tried.index = pcall(function()
    mt.__index = setmetatable({print = "hacked", tostring = "hacked"}, {__index = base})
  end)
  tried.newindex = pcall(function() mt.__newindex = function() end end)
  return tried
end

-- tries to change tables nested in shared modules
function M.nested_vandal()
  local crypto = require("crypto")
  pcall(function() process.event.EXIT = "hacked" end)
  pcall(function() crypto.random.bytes = function() return "hacked" end end)
  return "tried"
end

function M.nested_inspector()
  local crypto = require("crypto")
  return {
    exit_constant = process.event.EXIT,
    random_bytes_length = #crypto.random.bytes(4),
  }
end

-- what an unrelated process sees afterwards
function M.inspector()
  return {
    string_x = string.x == nil,
    rawx = string.rawx == nil,
    missing_key = string.zzz == nil,
    upper = ("abc"):upper(),
    string_upper = string.upper("abc"),
    insert = type(table.insert) == "function",
    pi = math.pi > 3.14 and math.pi < 3.15,
    time = os.time() > 0,
    send = type(process.send) == "function",
    errors_new = type(errors.new) == "function",
    spawn = type(coroutine.spawn) == "function",
    print = type(print) == "function",
    tostring = type(tostring) == "function",
  }
end

function M.global_setter(parent)
  SHARED_SECRET = "mine"
  _G.VIA_G = "mine too"
  assert(process.send(parent, "set"))
  process.listen("go"):receive()
  return {SHARED_SECRET, VIA_G}
end

function M.global_reader()
  return {secret_is_nil = SHARED_SECRET == nil, via_g_is_nil = VIA_G == nil, g_secret = _G.SHARED_SECRET == nil}
end

-- finalisers are refused
function M.finaliser()
  local ok = pcall(setmetatable, {}, {__gc = function() end})
  return {gc_refused = not ok}
end

-- pairs/next on runtime objects show no internals
function M.opaque(parent)
  local function keys(v)
    local ok, res = pcall(function()
      local out = {}
      for k in pairs(v) do out[#out + 1] = tostring(k) end
      return out
    end)
    if not ok then return {} end
    return res
  end
  local function first(v)
    local ok, k = pcall(next, v)
    if not ok then return nil end
    return k and tostring(k)
  end
  local ch = channel.new(1)
  local msg = process.inbox():receive()   -- the driver sends one message
  local err = errors.new{kind = "Conflict", message = "m"}
  return {
    channel_pairs = keys(ch), channel_next = first(ch),
    message_pairs = keys(msg), message_next = first(msg),
    payload_pairs = keys(msg:payload()), payload_next = first(msg:payload()),
    error_pairs = keys(err), error_next = first(err),
  }
end

-- math.randomseed gives a reproducible stream; `wait` pauses halfway
function M.seeded(parent, wait)
  math.randomseed(42)
  local out = {}
  for i = 1, 5 do
    out[i] = math.random(1, 1000000000)
    if wait and i == 2 then
      assert(process.send(parent, "halfway"))
      process.listen("go"):receive()
    end
  end
  return out
end

function M.reseeder()
  math.randomseed(7)
  local x = 0
  for _ = 1, 10 do x = x + math.random(1, 100) end
  return x
end

-- requiring a module that is not listed raises
function M.requirer()
  local ok, err = pcall(require, "funcs")
  local ok2, err2 = pcall(require, "time")
  return {funcs_raised = not ok, funcs_error = tostring(err), time_raised = not ok2, time_error = tostring(err2)}
end

return M
