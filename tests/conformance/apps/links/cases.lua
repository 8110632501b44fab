-- Exit, link and monitor scenarios (native host).
local time = require("time")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

-- EXIT events that arrived while waiting for another process's, by sender:
-- processes on a durable host may end in any order
local early_exits = {}

local function exit_of(pid)
  if early_exits[pid] then
    local ev = early_exits[pid]
    early_exits[pid] = nil
    return ev
  end
  local events = process.events()
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT then
      if ev.from == pid then return ev end
      early_exits[ev.from] = ev
    end
  end
end

local function describe(err)
  if err == nil then return nil end
  return {kind = err:kind(), message = err:message(), retryable = err:retryable()}
end

local function kind_of(err) return err and err:kind() end

local RFC3339 = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.?%d*Z$"

local cases = {}

function cases.exit_with_value(host)
  local pid = assert(process.spawn_monitored("t.links:returner", host, {n = 42}))
  local ev = exit_of(pid)
  return {
    kind = ev.kind,
    is_exit = ev.kind == process.event.EXIT,
    at_is_rfc3339 = type(ev.at) == "string" and ev.at:match(RFC3339) ~= nil,
    value = ev.result.value,
    no_error = ev.result.error == nil,
  }
end

function cases.exit_with_error(host)
  local failed = assert(process.spawn_monitored("t.links:failer", host, "NotFound", "no such order"))
  local raised = assert(process.spawn_monitored("t.links:raiser", host))
  local f, r = exit_of(failed).result, exit_of(raised).result
  return {
    returned = describe(f.error),
    returned_value_is_nil = f.value == nil,
    raised_kind = r.error:kind(),
    raised_mentions_boom = r.error:message():find("boom", 1, true) ~= nil,
  }
end

function cases.monitor_idempotent(host)
  local events = process.events()
  local pid = assert(process.spawn("t.links:waiter", host))
  local first, second = process.monitor(pid), process.monitor(pid)
  assert(process.send(pid, "go"))
  local ev1 = recv(events)
  -- a duplicate EXIT would have been queued with the first one, before this child's
  local later = assert(process.spawn_monitored("t.links:returner", host, "later"))
  local ev2 = recv(events)
  return {
    results = {first, second},
    first_from_waiter = ev1.from == pid,
    next_from_later = ev2.from == later,
  }
end

function cases.unmonitor_drops_queued_exit(host)
  local events = process.events()
  local watching, dead = process.listen("watching"), process.listen("target_dead")
  local target = assert(process.spawn_monitored("t.links:waiter", host))
  assert(process.spawn("t.links:watcher", host, target, process.pid()))
  recv(watching)
  assert(process.send(target, "go"))
  -- the watcher saw the EXIT, so ours was queued at the same moment
  recv(dead)
  local unmonitored = process.unmonitor(target)
  local later = assert(process.spawn_monitored("t.links:returner", host, "later"))
  local ev = recv(events)
  return {unmonitor = unmonitored, next_from_later = ev.from == later, next_from_target = ev.from == target}
end

function cases.dead_targets(host)
  local pid = assert(process.spawn_monitored("t.links:returner", host, 1))
  exit_of(pid)
  local l, lerr = process.link(pid)
  local m, merr = process.monitor(pid)
  return {link = {returned_nil = l == nil, kind = kind_of(lerr)},
          monitor = {returned_nil = m == nil, kind = kind_of(merr)}}
end

function cases.self_watch()
  local me = process.pid()
  local l, lerr = process.link(me)
  local m, merr = process.monitor(me)
  return {link = {returned_nil = l == nil, kind = kind_of(lerr)},
          monitor = {returned_nil = m == nil, kind = kind_of(merr)}}
end

function cases.cascade(host)
  local hello = process.listen("hello")
  local top = assert(process.spawn_monitored("t.links:chain", host, process.pid(), 3, host))
  local pids = {}
  for _ = 1, 3 do
    local h = recv(hello)
    pids[h.depth] = h.pid
  end
  local err = exit_of(top).result.error
  local details = err:details() or {}
  return {
    kind = err:kind(),
    retryable_is_nil = err:retryable() == nil,
    message = err:message(),
    expected = "linked process " .. pids[2] .. " failed: linked process " .. pids[1]
      .. " failed: bottom failed",
    linked_pid_is_middle = details.linked_pid == pids[2],
    linked_kind = details.linked_kind,
  }
end

function cases.normal_exit_keeps_untrapped_peer(host)
  local pid = assert(process.spawn_linked_monitored("t.links:returner", host, "fine"))
  local ev = exit_of(pid)
  -- still alive: this frame can go on receiving
  assert(process.send(process.pid(), "me", "alive"))
  return {exit_value = ev.result.value, after = recv(process.listen("me"))}
end

function cases.link_down_only_on_failure(host)
  assert(process.set_options{trap_links = true})
  local events = process.events()
  local good = assert(process.spawn_linked_monitored("t.links:returner", host, "fine"))
  local seen = {}
  local function take()
    local ev = recv(events)
    seen[#seen + 1] = {ev.kind, ev.from == good and "good" or "bad"}
    return ev
  end
  take()
  local bad = assert(process.spawn_linked_monitored("t.links:failer", host, "Conflict", "bad things"))
  take()
  local down = take()
  return {
    seen = seen,
    link_down_error = describe(down.result.error),
    link_down_value_is_nil = down.result.value == nil,
    link_down_from_bad = down.from == bad,
  }
end

function cases.link_is_symmetric(host)
  local child_ch = process.listen("child")
  local linker = assert(process.spawn_monitored("t.links:linker", host, process.pid(), host))
  local child = recv(child_ch)
  assert(process.monitor(child))
  assert(process.send(linker, "go"))
  local lerr = exit_of(linker).result.error
  local cerr = exit_of(child).result.error
  return {
    linker = lerr:kind(),
    child = cerr:kind(),
    child_message = cerr:message(),
    expected = "linked process " .. linker .. " failed: linker gave up",
    linked_kind = (cerr:details() or {}).linked_kind,
  }
end

function cases.trapped_untrapped_after_unlink(host)
  -- after unlink, the failure of a former peer does not reach this process
  local pid = assert(process.spawn_linked_monitored("t.links:waiter", host))
  assert(process.unlink(pid))
  assert(process.terminate(pid))
  local ev = exit_of(pid)
  assert(process.send(process.pid(), "me", "alive"))
  return {exit = ev.result.error:kind(), after = recv(process.listen("me"))}
end

function cases.unlink_drops_queued_link_down(host)
  assert(process.set_options{trap_links = true})
  local events = process.events()
  local watching, dead = process.listen("watching"), process.listen("target_dead")
  local target = assert(process.spawn_linked("t.links:go_then_fail", host))
  assert(process.spawn("t.links:watcher", host, target, process.pid()))
  recv(watching)
  assert(process.send(target, "go"))
  -- the watcher saw the EXIT, so our LINK_DOWN was queued at the same moment
  recv(dead)
  local unlinked = process.unlink(target)
  local later = assert(process.spawn_monitored("t.links:returner", host, "later"))
  local ev = recv(events)
  return {unlink = unlinked, next_kind = ev.kind, next_from_later = ev.from == later}
end

-- trap_links counts when the LINK_DOWN is processed, not when the link was made
function cases.trap_set_after_link(host)
  local events = process.events()
  local pid = assert(process.spawn_linked("t.links:go_then_fail", host))
  assert(process.set_options{trap_links = true})
  assert(process.send(pid, "go"))
  local ev = recv(events)
  return {kind = ev.kind, from_child = ev.from == pid, error = describe(ev.result.error)}
end

function cases.options()
  local default = process.get_options()
  local ok, err = process.set_options{bogus = true}
  local ok2, err2 = process.set_options{trap_links = "yes"}
  local after_bad = process.get_options()
  local set = process.set_options{trap_links = true}
  return {
    default = default,
    unknown_key = {ok = ok, kind = err and err:kind()},
    not_boolean = {ok = ok2, kind = err2 and err2:kind()},
    after_bad = after_bad,
    set = set,
    after_set = process.get_options(),
  }
end

return {main = function(case, ...) return cases[case](...) end}
