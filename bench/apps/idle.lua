-- Idle processes for the memory benchmark.

-- Tells `parent` it is up, then waits in receive until it gets a message.
local function idle(parent)
  local inbox = process.inbox()
  assert(process.send(parent, "up"))
  inbox:receive()
end

-- Spawns n idle processes and returns n once all of them reported "up" (so
-- every one is blocked in inbox:receive()). It keeps no reference to them. It
-- spawns in batches and waits for each batch: one step that spawns 100,000
-- processes would run past the step limit (docs/sandbox.md, "Limits").
local BATCH = 5000

local function idler(n)
  local up = process.listen("up")
  local me = process.pid()
  local started = 0
  while started < n do
    local batch = math.min(BATCH, n - started)
    for _ = 1, batch do
      assert(process.spawn("bench:idle", "bench:processes", me))
    end
    for _ = 1, batch do up:receive() end
    started = started + batch
  end
  return n
end

return {idler = idler, idle = idle}
