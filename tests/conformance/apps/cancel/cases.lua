-- Cancel and terminate scenarios.
local time = require("time")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

local function exit_of(pid)
  local events = process.events()
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT and ev.from == pid then return ev end
  end
end

local function describe(err)
  if err == nil then return nil end
  return {kind = err:kind(), message = err:message(), retryable = err:retryable()}
end

local RFC3339 = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.?%d*Z$"

local cases = {}

function cases.terminate_other(host)
  local pid = assert(process.spawn_monitored("t.cancel:waiter", host))
  local ok = process.terminate(pid)
  local res = exit_of(pid).result
  return {ok = ok, error = describe(res.error)}
end

function cases.terminate_self(host)
  local inbox = process.inbox()
  local pid = assert(process.spawn_monitored("t.cancel:self_terminator", host, process.pid()))
  local res = exit_of(pid).result
  -- messages sent before an exit precede its EXIT: "after" would be queued by now
  assert(process.send(process.pid(), "marker"))
  local topics = {inbox:receive():topic(), inbox:receive():topic()}
  return {error = describe(res.error), value_is_nil = res.value == nil, topics = topics}
end

function cases.cancel_with_reason(host)
  local pid = assert(process.spawn_monitored("t.cancel:polite", host, process.pid()))
  local ok = process.cancel(pid, "shutdown requested")
  local ev = exit_of(pid)
  local v = ev.result.value
  return {
    ok = ok,
    exit_error_is_nil = ev.result.error == nil,
    kind = v.kind,
    from_parent = v.from_parent,
    reason = v.reason,
    deadline_is_nil = v.deadline == nil,
    at_is_rfc3339 = type(v.at) == "string" and v.at:match(RFC3339) ~= nil,
  }
end

function cases.cancel_without_reason(host)
  local pid = assert(process.spawn_monitored("t.cancel:polite", host, process.pid()))
  assert(process.cancel(pid))
  return exit_of(pid).result.value.reason
end

function cases.cancel_event_deadline(host)
  local pid = assert(process.spawn_monitored("t.cancel:polite", host, process.pid()))
  assert(process.cancel(pid, "hurry", {deadline = "10s"}))
  local v = exit_of(pid).result.value
  return {reason = v.reason, deadline_is_rfc3339 = type(v.deadline) == "string"
          and v.deadline:match(RFC3339) ~= nil}
end

local FORMS = {
  options_string = function(pid) return process.cancel(pid, "late", {deadline = "100ms"}) end,
  options_ms = function(pid) return process.cancel(pid, "late", {deadline = 100}) end,
  legacy_string = function(pid) return process.cancel(pid, "100ms") end,
  legacy_ms = function(pid) return process.cancel(pid, 100) end,
}

-- the stubborn process is terminated when the deadline passes (virtual time in the test)
function cases.deadline(host, form)
  local pid = assert(process.spawn_monitored("t.cancel:stubborn", host))
  local t0 = time.now()
  local ok = FORMS[form](pid)
  local res = exit_of(pid).result
  local ms = time.now():sub(t0):milliseconds()
  return {ok = ok, error = describe(res.error), waited_100ms = ms >= 100 and ms < 1000}
end

-- two cancels with deadlines: the earliest one applies, whatever the order
function cases.earliest_deadline(host, first, second)
  local pid = assert(process.spawn_monitored("t.cancel:stubborn", host))
  local t0 = time.now()
  assert(process.cancel(pid, "first", {deadline = first}))
  assert(process.cancel(pid, "second", {deadline = second}))
  local res = exit_of(pid).result
  return {error = describe(res.error), ms = time.now():sub(t0):milliseconds()}
end

-- the deadline of a cancel survives the process that issued it
function cases.deadline_outlives_issuer(host)
  local target = assert(process.spawn_monitored("t.cancel:stubborn", host))
  local issuer = assert(process.spawn_monitored("t.cancel:canceller", host, target))
  local issuer_value = exit_of(issuer).result.value
  local res = exit_of(target).result
  return {issuer = issuer_value, target = describe(res.error)}
end

function cases.cancel_then_normal_return_is_success(host)
  local pid = assert(process.spawn_linked_monitored("t.cancel:polite", host, process.pid()))
  assert(process.cancel(pid, "bye", {deadline = "10s"}))
  local res = exit_of(pid).result
  -- linked and untrapped: this frame would have failed on a failure
  return {error_is_nil = res.error == nil, reason = res.value.reason}
end

function cases.several_cancels(host)
  local pid = assert(process.spawn_monitored("t.cancel:counter", host))
  assert(process.cancel(pid, "one"))
  assert(process.cancel(pid, "two"))
  assert(process.cancel(pid, "three"))
  assert(process.send(pid, "stop"))
  return exit_of(pid).result.value
end

function cases.dead_targets(host)
  local pid = assert(process.spawn_monitored("t.cancel:returner", host, 1))
  exit_of(pid)
  local c, cerr = process.cancel(pid, "too late")
  local t, terr = process.terminate(pid)
  return {cancel = {returned_nil = c == nil, kind = cerr and cerr:kind()},
          terminate = {returned_nil = t == nil, kind = terr and terr:kind()}}
end

function cases.terminate_triggers_links(host)
  assert(process.set_options{trap_links = true})
  local events = process.events()
  local pid = assert(process.spawn_linked_monitored("t.cancel:waiter", host))
  assert(process.terminate(pid))
  local a, b = recv(events), recv(events)
  return {kinds = {a.kind, b.kind}, link_down_error = describe(b.result.error)}
end

return {main = function(case, ...) return cases[case](...) end}
