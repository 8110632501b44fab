-- Processes under test for cancel and terminate (docs/reference/semantics.md, "Cancel and
-- terminate"; docs/reference/lua-modules.md, "Stopping").
local M = {}

function M.waiter()
  process.listen("go"):receive()
  return "went"
end

function M.returner(v) return v end

-- reads one CANCEL event and returns normally with what it saw
function M.polite(parent)
  local ev = process.events():receive()
  return {
    kind = ev.kind,
    from_parent = ev.from == parent,
    reason = ev.reason,
    deadline = ev.deadline,
    at = ev.at,
  }
end

-- never looks at its events
function M.stubborn()
  process.listen("never"):receive()
  return "finished"
end

function M.self_terminator(parent)
  assert(process.send(parent, "before"))
  process.terminate(process.pid())
  process.send(parent, "after")
  return "returned"
end

-- counts CANCEL events until told to stop
function M.counter()
  local events, stop = process.events(), process.listen("stop")
  local n, reasons = 0, {}
  while true do
    local r = channel.select{events:case_receive(), stop:case_receive()}
    if r.channel == stop then return {count = n, reasons = reasons} end
    n = n + 1
    reasons[n] = r.value.reason
  end
end

-- cancels `target` with a deadline, then ends at once
function M.canceller(target)
  assert(process.cancel(target, "from a short-lived process", {deadline = "100ms"}))
  return "cancelled"
end

return M
