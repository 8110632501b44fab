-- A service that announces itself, ticks while idle and reports how it was asked to stop.
local time = require("time")

return function()
  local events = process.events()
  print("keeper ready")
  local ticks = 0
  while true do
    local r = channel.select{events:case_receive(), time.after("100ms"):case_receive()}
    if r.channel == events then
      print("keeper stopping: " .. r.value.kind .. " " .. r.value.reason)
      return "stopped"
    end
    ticks = ticks + 1
    print("keeper tick " .. ticks)
  end
end
