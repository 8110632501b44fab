local funcs = require("funcs")
local time = require("time")

-- retried after a lost worker (timeout); a refusal (not retryable) is final
local step = funcs.new():with_options({["activity.start_to_close_timeout"] = "2s"})

return function(order)
  local tracking, err = step:call("chaos:ship", order)
  if err then return nil, err end
  time.sleep("1s")
  return tracking
end
