-- Payload shapes sent between processes and to Python.
local M = {}

function M.echo(...) return ... end

-- answers every message with its payload until told to stop
function M.bounce()
  local inbox = process.inbox()
  while true do
    local m = inbox:receive()
    if m:topic() == "stop" then return "stopped" end
    process.send(m:from(), "back", m:payload():data())
  end
end

local function equal(a, b, seen)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    if a ~= a and b ~= b then return true end  -- NaN
    return a == b and math.type(a) == math.type(b)
  end
  if getmetatable(a) == "error" then
    return getmetatable(b) == "error" and a:kind() == b:kind() and a:message() == b:message()
  end
  seen = seen or {}
  if seen[a] then return seen[a] == b end
  seen[a] = b
  for k, v in pairs(a) do if not equal(v, b[k], seen) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- Builds a Lua value from a recipe (see test_fuzz_inputs.py).
local function build(r, parent)
  local tag = r[1]
  if tag == "nil" then return nil
  elseif tag == "bool" or tag == "str" then return r[2]
  elseif tag == "int" then return math.tointeger(r[2])
  elseif tag == "float" then return r[2] + 0.0
  elseif tag == "special" then
    return ({nan = 0 / 0, inf = math.huge, ninf = -math.huge, negzero = -0.0,
             maxint = math.maxinteger, minint = math.mininteger})[r[2]]
  elseif tag == "bytes" then
    local out = {}
    for i = 1, #r[2] do out[i] = string.char(r[2][i]) end
    return table.concat(out)
  elseif tag == "huge" then return string.rep("h", r[2])
  elseif tag == "deep" then
    local t = {}
    for _ = 1, r[2] do t = {t} end
    return t
  elseif tag == "err" then return errors.new({kind = r[2], message = r[3]})
  elseif tag == "fn" then return print
  elseif tag == "thread" then return coroutine.create(print)
  elseif tag == "cycle" then return parent or "no parent"
  elseif tag == "mt" then return setmetatable({1}, {__index = function() error("touched") end})
  elseif tag == "tbl" then
    local t = {}
    for _, pair in ipairs(r[2]) do
      local k, v = build(pair[1], t), build(pair[2], t)
      if k ~= nil and k == k then t[k] = v end
    end
    return t
  end
  error("unknown recipe " .. tostring(tag))
end

local function describe(err)
  if getmetatable(err) == "error" then return err:kind() .. ": " .. err:message() end
  return tostring(err)
end

-- Builds each recipe, sends it to a bouncing process and compares what comes back.
function M.shapes(recipes)
  local back = process.listen("back")
  local peer = assert(process.spawn("t.fuzz:bounce", "t.fuzz:processes"))
  local report = {}
  for i, recipe in ipairs(recipes) do
    local ok, value = pcall(build, recipe)
    local sent, err = process.send(peer, "v", value)
    local entry = {built = ok}
    if sent then
      local got = back:receive()
      entry.same = equal(value, got)
    else
      entry.error = describe(err)
    end
    local ok2, perr = pcall(payload.new, value)
    entry.payload = ok2 or describe(perr)
    report[i] = entry
  end
  process.send(peer, "stop")
  return report
end

-- Sends the value through a process and back: the Lua-to-Lua copy.
function M.relay(v)
  local back = process.listen("back")
  local peer = assert(process.spawn("t.fuzz:bounce", "t.fuzz:processes"))
  assert(process.send(peer, "v", v))
  local got = back:receive()
  process.send(peer, "stop")
  return got
end

return M
