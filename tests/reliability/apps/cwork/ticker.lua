-- A ticker next to C library attacks: it must tick between every two attacks.
local M = {}

local ATTACKS = {
  rep_of_nothing = function() return #string.rep("", math.maxinteger) end,
  move_huge = function() table.move({}, 1, 2^62, 1) end,
  insert_front = function()
    local t = {}
    for i = 1, 2e6 do t[i] = i end
    for i = 1, 300 do table.insert(t, 1, i) end
  end,
  concat_over_index = function()
    local t = setmetatable({}, {__index = function() return "x" end})
    return #table.concat(t, "", 1, 1e9)
  end,
  sort_big = function()
    local t, x = {}, 7
    for i = 1, 5e6 do x = (x * 1103515245 + 12345) % 2147483648; t[i] = x end
    table.sort(t, function(a, b) return a < b end)
  end,
}

function M.attack(name) return ATTACKS[name]() end

-- sleeps 50ms in a loop and reports every tick to `to`
function M.ticker(to)
  local time = require("time")
  local n = 0
  while true do
    time.sleep("50ms")
    n = n + 1
    process.send(to, "tick", n)
  end
end

-- Runs the attacks one after another; before each attack and after the last one it
-- waits for a tick newer than any seen before, so the ticker ran between them.
function M.cases(names)
  local time = require("time")
  local ticks, events = process.listen("tick"), process.events()
  local function next_tick(after)
    while true do
      local r = channel.select{ticks:case_receive(), time.after("20s"):case_receive()}
      if r.channel ~= ticks then error("the ticker stopped ticking", 2) end
      if r.value > after then return r.value end
    end
  end
  local ticker = assert(process.spawn("t.cwork:ticker", "t.cwork:processes", process.pid()))
  local seen = next_tick(0)
  local out = {}
  for _, name in ipairs(names) do
    local pid = assert(process.spawn_monitored("t.cwork:attack", "t.cwork:processes", name))
    local ev
    repeat ev = events:receive() until ev.kind == process.event.EXIT and ev.from == pid
    out[name] = ev.result.error and ev.result.error:message() or "returned"
    seen = next_tick(seen)
  end
  process.terminate(ticker)
  return {results = out, ticks = seen}
end

return M
