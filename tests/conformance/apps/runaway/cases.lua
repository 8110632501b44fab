-- A runaway process is killed while its neighbour keeps answering.
local time = require("time")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

local function exit_of(pid, limit)
  local events = process.events()
  while true do
    local ev = recv(events, limit)
    if ev.kind == process.event.EXIT and ev.from == pid then return ev end
  end
end

local cases = {}

function cases.runaway(host, entry)
  local pongs = process.listen("pong")
  local neighbour = assert(process.spawn_monitored("t.runaway:echo", host))
  local runaway = assert(process.spawn_monitored("t.runaway:" .. entry, host))
  assert(process.send(neighbour, "ping", 1))
  local first = recv(pongs, "60s")
  local err = exit_of(runaway, "60s").result.error
  assert(process.send(neighbour, "ping", 2))
  local second = recv(pongs)
  assert(process.send(neighbour, "stop"))
  local stopped = exit_of(neighbour).result.value
  return {
    kind = err:kind(),
    message = err:message(),
    pongs = {first, second},
    neighbour = stopped,
  }
end

return {main = function(case, ...) return cases[case](...) end}
