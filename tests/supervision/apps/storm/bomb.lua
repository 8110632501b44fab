-- Fails one second after it started, unless it is cancelled first.
local time = require("time")

local function main()
  local events = process.events()
  local r = channel.select{time.after("1s"):case_receive(), events:case_receive()}
  if r.channel == events then
    return "cancelled"
  end
  error("boom")
end

return {main = main}
