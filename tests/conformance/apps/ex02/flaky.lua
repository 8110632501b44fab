local time = require("time")

-- crashes in its first two runs, then stays up until the service is stopped
local function main()
  while not process.registry.lookup("journal") do time.sleep("10ms") end
  local runs = process.listen("run")
  assert(process.send("journal", "hello"))
  local run = runs:receive()
  if run <= 2 then
    error("flaky run " .. run .. " crashed")
  end
  assert(process.registry.register("flaky"))
  local ev = process.events():receive()
  return "stopped after " .. ev.reason
end

return {main = main}
