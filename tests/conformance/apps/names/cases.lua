-- Name registry scenarios (native host).
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

local function kind_of(err) return err and err:kind() end

local reg = process.registry
local cases = {}

function cases.register_lookup_unregister()
  local me = process.pid()
  local r = {}
  r.register = reg.register("case-name")
  r.register_again = reg.register("case-name")
  r.lookup_is_me = reg.lookup("case-name") == me
  assert(process.send("case-name", "by-name", "hi"))
  r.sent_by_name = recv(process.listen("by-name"))
  r.unregister = reg.unregister("case-name")
  r.unregister_again = reg.unregister("case-name")
  local pid, err = reg.lookup("case-name")
  r.lookup_after = {returned_nil = pid == nil, kind = kind_of(err)}
  local ok, serr = process.send("case-name", "by-name", "hi")
  r.send_after = {returned_nil = ok == nil, kind = kind_of(serr)}
  return r
end

-- every destination argument accepts a name
function cases.names_as_destinations(host)
  local registered = process.listen("registered")
  local events = process.events()
  local pid = assert(process.spawn("t.names:holder", host, process.pid(), "by-name"))
  recv(registered)
  local monitored = process.monitor("by-name")
  local cancelled = process.cancel("by-name", "ignored")
  local terminated = process.terminate("by-name")
  local ev = recv(events)
  return {
    monitor = monitored,
    cancel = cancelled,
    terminate = terminated,
    exit_from = ev.from == pid,
    exit_kind = ev.result.error and ev.result.error:kind(),
  }
end

function cases.two_names_for_one_process()
  assert(reg.register("first-name"))
  assert(reg.register("second-name"))
  return reg.lookup("first-name") == process.pid() and reg.lookup("second-name") == process.pid()
end

function cases.register_other(host)
  local registered = process.listen("registered")
  local pid = assert(process.spawn_monitored("t.names:holder", host, process.pid(), "own-name"))
  recv(registered)
  local ok = reg.register("given-name", pid)
  local found = reg.lookup("given-name") == pid
  assert(process.send(pid, "go"))
  exit_of(pid)
  local dead_ok, dead_err = reg.register("late-name", pid)
  local _, gone = reg.lookup("given-name")
  return {
    register = ok,
    found = found,
    released_with_process = gone and gone:kind(),
    dead = {returned_nil = dead_ok == nil, kind = kind_of(dead_err)},
  }
end

function cases.already_exists(host)
  local registered = process.listen("registered")
  local pid = assert(process.spawn_monitored("t.names:holder", host, process.pid(), "taken"))
  recv(registered)
  local ok, err = reg.register("taken")
  local holder = reg.lookup("taken")
  assert(process.send(pid, "go"))
  exit_of(pid)
  return {returned_nil = ok == nil, kind = kind_of(err), still_holder = holder == pid}
end

function cases.released_before_exit(host)
  local registered = process.listen("registered")
  local pid = assert(process.spawn_monitored("t.names:holder", host, process.pid(), "leaving"))
  recv(registered)
  assert(process.send("leaving", "go"))
  local ev = exit_of(pid)
  local found, err = reg.lookup("leaving")
  local ok, serr = process.send("leaving", "go")
  return {
    exit_value = ev.result.value,
    lookup = {returned_nil = found == nil, kind = kind_of(err)},
    send = {returned_nil = ok == nil, kind = kind_of(serr)},
    reregister = reg.register("leaving"),
  }
end

function cases.spawn_or_signal(host)
  local first = process.with_options({}):with_name("single"):with_message("hello", 1)
  local p1 = assert(first:spawn_monitored("t.names:collector", host, process.pid(), "hello", 2))
  local registered = reg.lookup("single") == p1
  local second = process.with_options({}):with_name("single"):with_message("hello", 2)
  local p2 = assert(second:spawn("t.names:collector", host, process.pid(), "hello", 99))
  local res = exit_of(p1).result
  return {same_pid = p1 == p2, registered = registered, received = res.value}
end

-- a named spawn_monitored that finds a live process monitors that process
function cases.spawn_or_signal_monitors(host)
  local registered = process.listen("registered")
  local holder = assert(process.spawn("t.names:holder", host, process.pid(), "held"))
  recv(registered)
  local pid = assert(process.with_options({}):with_name("held"):with_message("go")
    :spawn_monitored("t.names:collector", host, process.pid(), "m", 1))
  local ev = exit_of(holder)
  return {same_pid = pid == holder, exit_value = ev.result.value}
end

function cases.startup_messages_first(host)
  local spawner = process.with_options({}):with_message("m", 1):with_message("m", 2)
  local pid = assert(spawner:spawn_monitored("t.names:collector", host, process.pid(), "m", 4))
  assert(process.spawn("t.names:sender", host, pid, "m", "other sender"))
  assert(process.send(pid, "m", 3))
  local got = exit_of(pid).result.value
  local values = {}
  for i, pair in ipairs(got) do values[i] = pair[1] end
  return {first_two = {got[1], got[2]}, values = values}
end

function cases.bad_names(host)
  local out = {}
  for i, name in ipairs({"a|b", "{x}", ""}) do
    local pid, err = process.with_options({}):with_name(name):spawn("t.names:collector", host, "", "m", 1)
    out[i] = {returned_nil = pid == nil, kind = kind_of(err)}
  end
  return out
end

function cases.other_scopes()
  local ok, err = reg.register("scoped", process.pid(), reg.CONSISTENT)
  return {returned_nil = ok == nil, kind = kind_of(err)}
end

return {main = function(case, ...) return cases[case](...) end}
