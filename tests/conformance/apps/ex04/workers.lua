local time = require("time")
local M = {}

function M.returner() return {ok = true, n = 42} end

function M.failer()
  return nil, errors.new({message = "no such order", kind = errors.NOT_FOUND, retryable = false})
end

function M.polite()
  local ev = process.events():receive()
  return "cleaned up: " .. ev.reason
end

function M.stubborn()                 -- never looks at its events
  time.sleep("10s")
  return "finished"
end

function M.ghost()
  time.sleep("300ms")
  return "boo"
end

function M.doomed()
  time.sleep("100ms")
  error("doomed process failed")
end

return M
