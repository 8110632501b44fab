-- n sequential activities: each funcs.call inside a workflow schedules the
-- activity bench:echo and waits for it. Returns the sum of the answers, which
-- bench/temporal.py checks (n * (n + 1) / 2).
local funcs = require("funcs")

local function main(n)
  local sum = 0
  for i = 1, n do
    local v, err = funcs.call("bench:echo", i)
    if err then error(err) end
    sum = sum + v
  end
  return sum
end

return {main = main}
