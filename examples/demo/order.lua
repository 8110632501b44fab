-- A durable order: reserve, wait for approval, charge, ship. When a step fails
-- (or approval never comes), the steps already done are undone in reverse order.
-- The same code would run natively on demo:processes; on demo:durable every step
-- is recorded by Temporal and survives a crash of the node.
local funcs = require("funcs")
local time = require("time")
local logger = require("logger")

local step = funcs.new():with_options({["activity.retry_policy"] = {maximum_attempts = 3}})

local function undo(done)
  local log = {}
  for i = #done, 1, -1 do
    log[#log + 1] = assert(step:call(done[i].fn, done[i].arg))
  end
  return log
end

local function main(order)
  local done = {}
  local reservation = assert(step:call("demo:reserve_stock", order))
  done[#done + 1] = {fn = "demo:release_stock", arg = reservation}
  logger:info("order: stock reserved, waiting for approval", {order = order.id})

  local approvals = process.listen("approval")
  local r = channel.select{approvals:case_receive(), time.after("30s"):case_receive()}
  if r.channel ~= approvals or not r.value.approved then
    return {order = order.id, status = "not approved", undone = undo(done)}
  end

  local charge = assert(step:call("demo:charge_card", order))
  done[#done + 1] = {fn = "demo:refund_card", arg = charge}
  local tracking, err = step:call("demo:ship", order)
  if err then
    logger:warn("order: shipping failed, compensating", {order = order.id, reason = err:message()})
    return {order = order.id, status = "compensated", reason = err:message(), undone = undo(done)}
  end
  logger:info("order: shipped", {order = order.id, tracking = tracking})
  return {order = order.id, status = "shipped", tracking = tracking}
end

return {main = main}
