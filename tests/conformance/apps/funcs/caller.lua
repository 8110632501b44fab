-- Processes that call functions or exec children (docs/reference/lua-modules.md, "Spawning",
-- "funcs"; docs/reference/semantics.md, "Function frames").
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
