-- Context scenarios.
local time = require("time")
local ctx = require("ctx")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

local function result_of(pid)
  local events = process.events()
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT and ev.from == pid then
      if ev.result.error then error(ev.result.error) end
      return ev.result.value
    end
  end
end

local cases = {}

function cases.child(host)
  local pid = assert(process.with_context({tenant = "t1", n = 5, list = {1, 2}})
    :spawn_monitored("t.ctx:reader", host))
  return result_of(pid)
end

function cases.no_context(host)
  local pid = assert(process.spawn_monitored("t.ctx:reader", host))
  return result_of(pid)
end

function cases.inherited(host)
  local pid = assert(process.with_context({a = "from root", b = "from root"})
    :spawn_monitored("t.ctx:parent", host, host))
  return result_of(pid)
end

function cases.frame_context()
  return ctx.all()
end

return {main = function(case, ...) return cases[case](...) end}
