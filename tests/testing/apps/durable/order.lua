local funcs = require("funcs")
local time = require("time")

-- Reserves, waits a moment, then charges: two activities around a durable timer.
local function main(order)
  local reserved = assert(funcs.call("dur:step", "reserve", order))
  time.sleep("10ms")
  local charged = assert(funcs.call("dur:step", "charge", order))
  return {reserved, charged}
end
return {main = main}
