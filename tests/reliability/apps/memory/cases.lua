-- A process that allocates without limit fails alone; its neighbour keeps answering.
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

return function(entry)
  local host = "t.memory:processes"
  local pongs = process.listen("pong")
  local neighbour = assert(process.spawn_monitored("t.memory:echo", host))
  assert(process.send(neighbour, "ping", 1))
  local first = recv(pongs)
  local hog = assert(process.spawn_monitored("t.memory:" .. entry, host))
  local err = exit_of(hog).result.error
  assert(process.send(neighbour, "ping", {2, string.rep("z", 1000)}))
  local second = recv(pongs)
  assert(process.send(neighbour, "stop"))
  return {
    kind = err:kind(),
    message = err:message(),
    pongs = {first, second[1], #second[2]},
    neighbour = exit_of(neighbour).result.value,
  }
end
