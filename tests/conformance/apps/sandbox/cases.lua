-- Sandbox scenarios: processes on one host must not affect each other.
local time = require("time")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

local function result_of(pid)
  local events = process.events()
  while true do
    local ev = recv(events)
    if ev.kind == "pid.exit" and ev.from == pid then  -- literal: a vandal may rewrite process.event
      if ev.result.error then error(ev.result.error) end
      return ev.result.value
    end
  end
end

local function run(host, entry, ...)
  return result_of(assert(process.spawn_monitored("t.sandbox:" .. entry, host, ...)))
end

local cases = {}

function cases.run(host, entry)
  local pid = assert(process.spawn_monitored("t.sandbox:" .. entry, host, process.pid()))
  assert(process.send(pid, "probe", "x"))   -- a message for those that inspect one
  return result_of(pid)
end

function cases.shared_libraries(host)
  local tried = run(host, "vandal")
  return {tried = tried, other = run(host, "inspector")}
end

function cases.environment_metatable(host)
  local tried = run(host, "env_vandal")
  return {tried = tried, other = run(host, "inspector")}
end

function cases.nested_module_tables(host)
  run(host, "nested_vandal")
  return run(host, "nested_inspector")
end

function cases.globals(host)
  local set = process.listen("set")
  local setter = assert(process.spawn_monitored("t.sandbox:global_setter", host, process.pid()))
  recv(set)
  local seen = run(host, "global_reader")
  assert(process.send(setter, "go"))
  return {other = seen, own = result_of(setter)}
end

function cases.random(host)
  local reference = run(host, "seeded", process.pid(), false)
  local halfway = process.listen("halfway")
  local pid = assert(process.spawn_monitored("t.sandbox:seeded", host, process.pid(), true))
  recv(halfway)
  run(host, "reseeder")
  assert(process.send(pid, "go"))
  local interrupted = result_of(pid)
  local same = #reference == 5
  for i = 1, 5 do same = same and reference[i] == interrupted[i] end
  return {same = same}
end

return {main = function(case, ...) return cases[case](...) end}
