-- Spawner builder scenarios (docs/reference/lua-modules.md, "Spawner builders").
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
    if ev.kind == process.event.EXIT and ev.from == pid then
      if ev.result.error then error(ev.result.error) end
      return ev.result.value
    end
  end
end

local cases = {}

function cases.immutable(host)
  local base = process.with_context({a = 1})
  local left = base:with_context({b = 2})
  local right = base:with_context({c = 3})
  local quiet = process.with_options({})
  local one = quiet:with_message("m", "one")
  local two = quiet:with_message("m", "two")
  local assigned = pcall(function() base.extra = 1 end)
  return {
    base = result_of(assert(base:spawn_monitored("t.spawner:reader", host))),
    left = result_of(assert(left:spawn_monitored("t.spawner:reader", host))),
    right = result_of(assert(right:spawn_monitored("t.spawner:reader", host))),
    message_two = result_of(assert(two:spawn_monitored("t.spawner:first_message", host))),
    message_one = result_of(assert(one:spawn_monitored("t.spawner:first_message", host))),
    assignment_raised = not assigned,
  }
end

function cases.later_options_override(host)
  local s = process.with_context({k = "first"}):with_context({k = "second"})
  return result_of(assert(s:spawn_monitored("t.spawner:reader", host)))
end

function cases.unknown_option(host)
  local pid, err = process.with_options({bogus = 1}):spawn("t.spawner:reader", host)
  local pid2, err2 = process.with_options({network = "x"}):spawn_monitored("t.spawner:reader", host)
  return {
    bogus = {returned_nil = pid == nil, kind = err and err:kind()},
    network = {returned_nil = pid2 == nil, kind = err2 and err2:kind()},
  }
end

function cases.workflow_options_ignored(host)
  local s = process.with_options({
    ["temporal.workflow.id"] = "wf-native",
    ["temporal.workflow.execution_timeout"] = "1h",
    ["workflow.task_queue"] = "elsewhere",
  }):with_context({ran = true})
  local pid, err = s:spawn_monitored("t.spawner:reader", host)
  if not pid then return {spawn_error = err:kind()} end
  local _, lerr = process.registry.lookup("wf-native")
  return {result = result_of(pid), id_not_a_name = lerr and lerr:kind()}
end

function cases.startup_topic_reserved(host)
  local pid, err = process.with_options({}):with_message("@inbox", 1):spawn("t.spawner:reader", host)
  return {returned_nil = pid == nil, kind = err and err:kind()}
end

local function outcome(pid, err) return {returned_nil = pid == nil, kind = err and err:kind()} end

function cases.spawn_errors(host)
  return {
    unknown_entry = outcome(process.spawn("t.spawner:nope", host)),
    unknown_host = outcome(process.spawn("t.spawner:reader", "app:nowhere")),
    function_entry = outcome(process.spawn("t.spawner:cases", host)),
    functions_host = outcome(process.spawn("t.spawner:reader", "orrery:functions")),
    malformed_id = outcome(process.spawn("no-namespace", host)),
    exec_function = outcome(process.exec("t.spawner:cases", host)),
  }
end

return {main = function(case, ...) return cases[case](...) end}
