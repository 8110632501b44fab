-- A workflow that says it is waiting, then waits for a "go" message.
local logger = require("logger")
return {main = function()
  logger:info("waiter is waiting")
  return process.inbox():receive():payload():data()
end}
