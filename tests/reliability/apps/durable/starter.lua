local time = require("time")
-- starts (or finds) flow-1, then lets it go well after it has begun waiting
return function()
  local pid = assert(process.with_options({}):with_name("flow-1"):spawn("dur:flow", "dur:worker"))
  time.sleep("8s")
  assert(process.send(pid, "go", "GO"))
end
