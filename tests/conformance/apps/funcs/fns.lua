-- Function entries under test (docs/reference/lua-modules.md, "funcs";
-- docs/reference/semantics.md, "Function frames").
local M = {}

function M.add(a, b) return a + b end

function M.failing()
  return nil, errors.new{kind = errors.CONFLICT, message = "taken", retryable = false,
                         details = {id = 7}}
end

function M.text_error() return nil, "plain text" end

function M.value_and_error()
  return "discarded", errors.new{kind = errors.UNAVAILABLE, message = "value and error"}
end

function M.value_and_nil() return "kept", nil end

function M.whoami() return process.pid() end

-- tells the caller its PID, then takes far longer than the caller allows
function M.slow(caller)
  local time = require("time")
  assert(process.send(caller, "frame", process.pid()))
  time.sleep("30s")
  return "too late"
end

function M.mutate(t)
  t.x = "changed by callee"
  return t
end

-- a frame that spawns a process, sends to it and waits for the answer
function M.networker(host)
  local pid = assert(process.spawn_monitored("t.funcs:echo", host))
  assert(process.send(pid, "ping", "from a frame"))
  local reply = process.listen("echo"):receive()
  local ev = process.events():receive()
  return {reply = reply, child_exit = ev.result.value}
end

return M
