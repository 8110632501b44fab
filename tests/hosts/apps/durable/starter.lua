local time = require("time")
return function()
  local pid = assert(process.with_options({}):with_name("flow-1"):spawn("dur:flow", "dur:worker"))
  time.sleep("5s")
  assert(process.send(pid, "go", "GO"))
end
