-- A short tour of orrery on the native host: spawn monitored workers, collect
-- their messages and EXIT events, talk to a supervised service by name, and
-- watch a crashing sensor being brought back by its restart policy.
local time = require("time")
local logger = require("logger")

local function main()
  local started = time.now()
  logger:info("tour: spawning 5 workers")
  local events = process.events()
  local squares = process.listen("squared")
  for n = 1, 5 do
    assert(process.spawn_monitored("demo:worker", "demo:processes", n, process.pid()))
  end
  local results, exits = {}, 0
  while exits < 5 or #results < 5 do
    local r = channel.select{squares:case_receive(), events:case_receive()}
    if r.channel == squares then
      results[r.value.n] = r.value.value
    elseif r.value.kind == process.event.EXIT then
      exits = exits + 1
    end
  end
  logger:info("tour: workers done", {squares = table.concat(results, ",")})

  logger:info("tour: letting the sensor run (it crashes every 4 readings)")
  time.sleep("2s")
  local replies = process.listen("total")
  assert(process.send("tally", "get"))
  local total = replies:receive()
  logger:info("tour: tally answered", {readings = total.readings, total = total.total})

  logger:info("tour: starting two durable orders on demo:durable")
  local orders = {}
  for _, o in ipairs({{id = "A1", region = "eu"}, {id = "B2", region = "mars"}}) do
    local pid = assert(process.spawn_monitored("demo:order", "demo:durable", o))
    orders[pid] = o.id
    assert(process.send(pid, "approval", {approved = true, by = "tour"}))
  end
  local outcomes = {}
  for _ = 1, 2 do
    local ev = events:receive()
    local id = orders[ev.from]
    if id then
      outcomes[id] = ev.result.value or {error = ev.result.error:message()}
      logger:info("tour: order finished", {order = id, status = outcomes[id].status})
    end
  end

  return {
    orders = outcomes,
    squares = results,
    workers_exited = exits,
    sensor_readings = total.readings,
    sensor_survived_crashes = total.readings > 4,
    took_ms = time.now():sub(started):milliseconds(),
  }
end

return {main = main}
