-- Starts the echo workflow on the worker, pings it and returns what it answered.
local time = require("time")

local function recv(ch)
  local r = channel.select{ch:case_receive(), time.after("30s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within 30s", 2) end
  return r.value
end

return function()
  local events = process.events()
  local pid = assert(process.spawn_monitored("t.wfcwork:echo", "t.wfcwork:worker"))
  assert(process.send(pid, "ping", 42))
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT and ev.from == pid then return ev.result.value end
  end
end
