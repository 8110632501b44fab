local time = require("time")
local M = {}

function M.square(n) return n * n end

function M.broken()
  return nil, errors.new({message = "ledger missing", kind = errors.NOT_FOUND, retryable = false})
end

function M.lingerer(ms)
  time.sleep(ms * time.MILLISECOND)
  return "still here"
end

function M.listener()
  local ev = process.events():receive()
  return {cancelled = ev.kind == process.event.CANCEL}
end

return M
