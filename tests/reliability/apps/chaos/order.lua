local funcs = require("funcs")
local time = require("time")
local workflow = require("workflow")
local logger = require("logger")

-- a node killed in the middle of an activity leaves it to time out and retry
local step = funcs.new():with_options({["activity.start_to_close_timeout"] = "2s"})

local function next_pid(order)
  return "{chaos:temporal@chaos:worker|order-" .. (order.n + 1) .. "}"
end

return function(order)
  local reservation = assert(step:call("chaos:reserve", order))
  local approval = process.listen("approve"):receive()
  time.sleep("2s")
  local charge = assert(step:call("chaos:charge", order))
  local tracking, err = workflow.exec("chaos:shipment", order)
  local result
  if err then
    result = {
      status = "compensated",
      reason = err:message(),
      undone = {assert(step:call("chaos:refund", order)), assert(step:call("chaos:release", order))},
    }
  else
    result = {status = "shipped", reservation = reservation, charge = charge, tracking = tracking}
  end
  result.approval = approval
  if order.n < order.of then process.send(next_pid(order), "approve", "by order-" .. order.n) end
  logger:info("order " .. order.id .. " " .. result.status)
  return result
end
