local time = require("time")
local logger = require("logger")

-- "b" takes a while, so a node can be killed while it runs
return function(x)
  logger:info("step: " .. x .. " running")
  if x == "b" then time.sleep("1s") end
  return string.upper(x)
end
