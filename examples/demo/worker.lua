-- Squares a number through a function call and reports to whoever spawned it.
local funcs = require("funcs")

local function main(n, report_to)
  local value, err = funcs.call("demo:square", n)
  if err then return nil, err end
  process.send(report_to, "squared", {n = n, value = value})
  return value
end

return {main = main}
