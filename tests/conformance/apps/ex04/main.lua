local time = require("time")

local function spawn(name)
  return assert(process.spawn_monitored("ex.watch:" .. name, "app:processes"))
end

local function describe(res)
  local e = res.error
  return e and {kind = e:kind(), message = e:message(), retryable = e:retryable()}
end

local function main()
  local events = process.events()
  local pid = {}
  for _, name in ipairs({"returner", "failer", "polite", "stubborn", "victim", "doomed"}) do
    pid[name] = spawn(name)
  end
  local ghost = spawn("ghost")
  assert(process.unmonitor(ghost))
  assert(process.link(pid.doomed))
  assert(process.unlink(pid.doomed))          -- so this frame survives the doomed process

  assert(process.cancel(pid.polite, "shutdown requested"))
  local cancelled_at = time.now()
  assert(process.cancel(pid.stubborn, "200ms"))   -- seed form: the second argument is a deadline
  assert(process.terminate(pid.victim))

  local name_of = {}
  for name, p in pairs(pid) do name_of[p] = name end
  local got, seen = {}, 0
  local stop = time.after("3s")
  while seen < 6 do
    local r = channel.select{events:case_receive(), stop:case_receive()}
    if r.channel == stop then break end
    local name = name_of[r.value.from]
    if name then
      got[name] = r.value.result
      if name == "stubborn" then got.stubborn_ms = time.now():sub(cancelled_at):milliseconds() end
      seen = seen + 1
    end
  end

  -- the ghost ends at about 300 ms; its EXIT must not arrive
  local quiet = channel.select{events:case_receive(), time.after("500ms"):case_receive()}
  local _, dead = process.cancel(pid.returner, "too late")
  local exec_native = process.exec("ex.watch:returner", "app:processes")

  return {
    returner = got.returner.value,
    failer = describe(got.failer),
    polite = got.polite.value,
    stubborn = {error = describe(got.stubborn), waited_ok = got.stubborn_ms >= 200 and got.stubborn_ms < 1000},
    victim = describe(got.victim),
    doomed_kind = got.doomed.error:kind(),
    ghost_event = quiet.channel == events,
    cancel_dead = dead and dead:kind(),
    exec_native = exec_native,
  }
end

return {main = main}
