-- Processes driven from Python through the embedding API (docs/reference/cli.md, "Embedding from
-- Python").
local M = {}

-- greets a Python mailbox, then waits for a reply
function M.greeter(mailbox)
  assert(process.send(mailbox, "greet", {x = 1, list = {1, 2.5}}))
  local reply = process.listen("reply"):receive()
  assert(process.send(mailbox, "got", reply))
end

-- answers "ping" messages whose data is the reply-to PID
function M.responder()
  local pings = process.listen("ping", {message = true})
  while true do
    local m = pings:receive()
    local data = m:payload():data()
    if data.stop then return "stopped" end
    assert(process.send(data.reply_to, "pong", {n = data.n, from = m:from()}))
  end
end

-- reports how a message from Python looks, to `mailbox`
function M.inspector(mailbox)
  local m = process.inbox():receive()
  assert(process.send(mailbox, "seen", {
    topic = m:topic(),
    from_is_nil = m:from() == nil,
    data = m:payload():data(),
  }))
end

function M.result(v) return {doubled = v * 2, float = 1.0} end

function M.failure(kind, message)
  return nil, errors.new{kind = kind, message = message, retryable = false}
end

-- tells `mailbox` the PID of a process once that process has ended
function M.undertaker(mailbox)
  local pid = assert(process.spawn_monitored("t.embed:result", "app:processes", 1))
  process.events():receive()
  assert(process.send(mailbox, "dead", pid))
end

-- a service that serves until cancelled
function M.keeper()
  local ev = process.events():receive()
  return ev.reason
end

return M
