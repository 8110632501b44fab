-- Processes under test for exits, links and monitors (docs/reference/semantics.md, "Process exit",
-- "Monitors").
local M = {}

function M.waiter()
  process.listen("go"):receive()
  return "went"
end

function M.returner(v) return v end

function M.failer(kind, message)
  return nil, errors.new{kind = kind, message = message, retryable = false}
end

function M.raiser() error("boom") end

function M.go_then_fail()
  process.listen("go"):receive()
  return nil, errors.new{kind = errors.CONFLICT, message = "failed after go"}
end

-- monitors `target`, tells `parent`, and reports the target's end
function M.watcher(target, parent)
  local events = process.events()
  assert(process.monitor(target))
  assert(process.send(parent, "watching"))
  events:receive()
  assert(process.send(parent, "target_dead"))
end

-- a chain of `depth` processes, each linked to the next; the last one fails
function M.chain(parent, depth, host)
  assert(process.send(parent, "hello", {depth = depth, pid = process.pid()}))
  if depth == 1 then
    return nil, errors.new{kind = errors.UNAVAILABLE, message = "bottom failed"}
  end
  assert(process.spawn_linked("t.links:chain", host, parent, depth - 1, host))
  process.listen("never"):receive()
end

-- links a waiter to itself, reports it, then fails when told to
function M.linker(parent, host)
  local child = assert(process.spawn_linked("t.links:waiter", host))
  assert(process.send(parent, "child", child))
  process.listen("go"):receive()
  return nil, errors.new{kind = errors.CONFLICT, message = "linker gave up"}
end

return M
