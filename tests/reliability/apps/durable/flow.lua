local funcs = require("funcs")
local time = require("time")
local logger = require("logger")

local step = funcs.new():with_options({["activity.start_to_close_timeout"] = "3s"})

return function()
  local a = assert(step:call("dur:step", "a"))
  logger:info("flow: a done")
  time.sleep("3s")
  local b = assert(step:call("dur:step", "b"))
  logger:info("flow: b done")
  local go = process.listen("go"):receive()
  local c = assert(step:call("dur:step", "c"))
  logger:info("flow: c done")
  return {a, b, go, c}
end
