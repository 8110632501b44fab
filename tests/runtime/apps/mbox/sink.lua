-- A slow consumer of topic "n".
--   mode "gate": receives nothing until a "go" message, then drains what is queued
--   mode "slow": sleeps 1s, then receives `count` messages, 100ms apart
local time = require("time")

local function main(parent, mode, count)
  local got = {}
  if mode == "gate" then
    process.listen("go"):receive()
    local inbox = process.inbox()
    while true do
      local r = channel.select{inbox:case_receive(), default = true}
      if r.default then break end
      got[#got + 1] = r.value:payload():data()
    end
  else
    time.sleep("1s")
    local inbox = process.inbox()
    for _ = 1, count do
      got[#got + 1] = inbox:receive():payload():data()
      time.sleep("100ms")
    end
  end
  process.send(parent, "got", got)
end

return {main = main}
