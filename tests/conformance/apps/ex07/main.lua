local time = require("time")

local function start(n, wait)
  return assert(process.with_options({})
    :with_name("approval-" .. n)
    :spawn_monitored("ex.approval:approval", "app:worker", {id = n, wait = wait}))
end

local function main()
  local events = process.events()
  local yes = start(71, "5s")
  start(72, "300ms")
  local gone = start(73, "5s")

  time.sleep("100ms")
  assert(process.send(yes, "decision", {approved = true, by = "dana"}))
  assert(process.cancel(gone, "request withdrawn"))

  local out = {}
  for _ = 1, 3 do
    local value = events:receive().result.value
    out[value.id] = value
  end
  out.pid_shape = yes == "{app:temporal@app:worker|approval-71}"
  return out
end

return {main = main}
