-- Coroutine scenarios: each spawns one process on the host and reports its result.
local time = require("time")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

local function exit_of(pid)
  local events = process.events()
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT and ev.from == pid then return ev end
  end
end

local cases = {}

function cases.result(host, entry)
  local res = exit_of(assert(process.spawn_monitored("t.coro:" .. entry, host))).result
  if res.error then
    return {error = {kind = res.error:kind(), message = res.error:message()}}
  end
  return {value = res.value}
end

function cases.discards(host)
  local inbox = process.inbox()
  local pid = assert(process.spawn_monitored("t.coro:discards", host, process.pid()))
  local res = exit_of(pid).result
  assert(process.send(process.pid(), "marker"))
  return {value = res.value, topics = {inbox:receive():topic(), inbox:receive():topic()}}
end

return {main = function(case, ...) return cases[case](...) end}
