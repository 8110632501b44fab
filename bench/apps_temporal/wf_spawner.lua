-- Workflow throughput from Lua: spawns n monitored bench:trivial workflows on
-- bench:worker and returns once it has received the EXIT event of every one of
-- them (it fails if any EXIT carries an error, or a wrong value).
--
-- A spawn on a worker host blocks the calling coroutine for one
-- StartWorkflowExecution round trip. `main` spawns from one loop, so its starts
-- go to the server one after another; `parallel` spreads them over k coroutines.

local function await_exits(events, n)
  local exits, sum = 0, 0
  while exits < n do
    local ev = events:receive()
    if ev.kind == process.event.EXIT then
      if ev.result.error then error(ev.result.error) end
      exits = exits + 1
      sum = sum + ev.result.value
    end
  end
  if sum ~= n * (n + 1) // 2 then error("wrong results: " .. sum) end
  return exits
end

local function main(n)
  local events = process.events()
  for i = 1, n do
    assert(process.spawn_monitored("bench:trivial", "bench:worker", i))
  end
  return await_exits(events, n)
end

local function parallel(n, k)
  local events = process.events()
  for c = 1, k do
    coroutine.spawn(function()
      for i = c, n, k do
        assert(process.spawn_monitored("bench:trivial", "bench:worker", i))
      end
    end)
  end
  return await_exits(events, n)
end

return {main = main, parallel = parallel}
