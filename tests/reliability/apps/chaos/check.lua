local time = require("time")

-- monitors an order, waiting for the starter service to have started it
local function watch(pid)
  while true do
    local ok, err = process.monitor(pid)
    if ok then return end
    if not errors.is(err, errors.NOT_FOUND) then error(err) end
    time.sleep("200ms")
  end
end

return function(count)
  local events, results = process.events(), {}
  for n = 1, count do
    watch("{chaos:temporal@chaos:worker|order-" .. n .. "}")
  end
  for _ = 1, count do
    local ev = events:receive()
    local id = ev.from:match("|(order%-%d+)}$")
    results[id] = ev.result.error and {error = ev.result.error:message()} or ev.result.value
  end
  return results
end
