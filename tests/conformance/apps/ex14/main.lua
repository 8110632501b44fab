local funcs = require("funcs")

local function main()
  local events = process.events()
  local spawner = process.with_context({tenant = "acme", request_id = "r-1"})
  assert(spawner:spawn_monitored("ex.ctx:ctx_flow", "app:worker"))
  local flow = events:receive().result.value
  flow.native = funcs.new():with_context({tenant = "local"}):call("ex.ctx:whoami", "native")
  return flow
end

return {main = main}
