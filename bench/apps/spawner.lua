-- Spawn + exit: spawns n monitored trivial processes and returns once it has
-- received the EXIT event of every one of them. It spawns in batches and waits
-- for each batch's EXITs: one step that spawns 100,000 processes would run past
-- the step limit (docs/sandbox.md, "Limits").
local BATCH = 5000

local function main(n)
  local events = process.events()
  local exits = 0
  while exits < n do
    local batch = math.min(BATCH, n - exits)
    for _ = 1, batch do
      assert(process.spawn_monitored("bench:trivial", "bench:processes"))
    end
    local want = exits + batch
    while exits < want do
      local ev = events:receive()
      if ev.kind == process.event.EXIT then
        if ev.result.error then error(ev.result.error) end
        exits = exits + 1
      end
    end
  end
  return exits
end

return {main = main}
