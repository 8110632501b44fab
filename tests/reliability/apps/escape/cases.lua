-- Runs one escape attempt as a process between a long-lived neighbour and a fresh probe.
local time = require("time")

local function recv(ch)
  local r = channel.select{ch:case_receive(), time.after("20s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within 20s", 2) end
  return r.value
end

local function exit_of(pid)
  local events = process.events()
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT and ev.from == pid then return ev end
  end
end

-- `entry` is the process entry whose attempt file holds `name` (default: attempts.lua).
return function(name, entry)
  local host = "t.escape:processes"
  local pongs = process.listen("pong")
  local neighbour = assert(process.spawn_monitored("t.escape:echo", host))
  assert(process.send(neighbour, "ping", 1))
  local before = recv(pongs)
  local pid = assert(process.spawn_monitored(entry or "t.escape:attempt", host, name))
  local result = exit_of(pid).result
  local outcome
  if result.error then
    outcome = {failed = result.error:kind() .. ": " .. result.error:message()}
  else
    outcome = result.value
  end
  assert(process.send(neighbour, "ping", 2))
  local after = recv(pongs)
  local probe = assert(process.exec("t.escape:probe", host))
  assert(process.send(neighbour, "stop"))
  return {
    outcome = outcome,
    pongs = {before.n, after.n},
    same_in_neighbour = after.seen,
    fresh = probe,
    neighbour = exit_of(neighbour).result.value,
  }
end
