-- Spawn + exit: spawns n monitored trivial processes and returns once it has
-- received the EXIT event of every one of them.
local function main(n)
  local events = process.events()
  for _ = 1, n do
    assert(process.spawn_monitored("bench:trivial", "bench:processes"))
  end
  local exits = 0
  while exits < n do
    local ev = events:receive()
    if ev.kind == process.event.EXIT then
      if ev.result.error then error(ev.result.error) end
      exits = exits + 1
    end
  end
  return exits
end

return {main = main}
