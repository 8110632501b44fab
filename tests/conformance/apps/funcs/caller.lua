-- Processes that call functions or exec children (lua-api.md §2.4, §6; semantics.md §3).
local funcs = require("funcs")
local M = {}

function M.whoami()
  local pid, err = funcs.call("t.funcs:whoami")
  if err then return nil, err end
  return {frame = pid, me = process.pid()}
end

-- calls the slow function on behalf of `parent` and waits for it
function M.slow_caller(parent)
  return funcs.call("t.funcs:slow", parent)
end

-- execs a waiter that reports its PID to `parent`
function M.exec_caller(parent, host)
  return process.exec("t.funcs:waiter", host, parent)
end

function M.waiter(parent)
  assert(process.send(parent, "child", process.pid()))
  process.listen("go"):receive()
  return "went"
end

return M
