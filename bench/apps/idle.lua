-- Idle processes for the memory benchmark.

-- Tells `parent` it is up, then waits in receive until it gets a message.
local function idle(parent)
  local inbox = process.inbox()
  assert(process.send(parent, "up"))
  inbox:receive()
end

-- Spawns n idle processes and returns n once all of them reported "up" (so
-- every one is blocked in inbox:receive()). It keeps no reference to them.
local function idler(n)
  local up = process.listen("up")
  local me = process.pid()
  for _ = 1, n do
    assert(process.spawn("bench:idle", "bench:processes", me))
  end
  for _ = 1, n do up:receive() end
  return n
end

return {idler = idler, idle = idle}
