-- A workflow that allocates without limit fails alone; a neighbour on the same worker answers.
local time = require("time")

local function recv(ch)
  local r = channel.select{ch:case_receive(), time.after("30s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within 30s", 2) end
  return r.value
end

local function exit_of(events, pid)
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT and ev.from == pid then return ev.result end
  end
end

return function(entry)
  local worker = "t.wfmem:worker"
  local events = process.events()
  local ready = process.listen("ready")
  local neighbour = assert(process.spawn_monitored("t.wfmem:echo", worker, process.pid()))
  recv(ready)
  local hog = assert(process.spawn_monitored("t.wfmem:" .. entry, worker))
  local result = exit_of(events, hog)
  assert(process.send(neighbour, "ping", 42))
  local out = {value = result.value, neighbour = exit_of(events, neighbour).value}
  if result.error then
    out.kind, out.message = result.error:kind(), result.error:message()
  end
  return out
end
