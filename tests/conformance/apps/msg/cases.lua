-- Messaging scenarios, driven from a function frame.
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

local function result_of(pid)
  local res = exit_of(pid).result
  if res.error then error(res.error) end
  return res.value
end

local cases = {}

function cases.listen_data_forms(host)
  local pid = assert(process.spawn_monitored("t.msg:forms", host))
  assert(process.send(pid, "v", 7))
  assert(process.send(pid, "v"))
  assert(process.send(pid, "v", 1, "two", {3}))
  return result_of(pid)
end

function cases.message_objects(host)
  local pid = assert(process.spawn_monitored("t.msg:objects", host, process.pid()))
  assert(process.send(pid, "m", {k = "v"}))
  assert(process.send(pid, "m"))
  return result_of(pid)
end

function cases.inbox_messages(host)
  local pid = assert(process.spawn_monitored("t.msg:inbox_reader", host, process.pid(), 3))
  assert(process.send(pid, "first", 1))
  assert(process.send(pid, "second"))
  assert(process.send(pid, "third", "a", "b"))
  return result_of(pid)
end

function cases.fifo(host, n)
  local ready = process.listen("ready")
  local pid = assert(process.spawn_monitored("t.msg:fifo", host, process.pid(), n))
  recv(ready)
  for i = 1, n do assert(process.send(pid, "n", i)) end
  return result_of(pid)
end

function cases.kept_before_listen(host)
  local pid = assert(process.spawn_monitored("t.msg:late_listener", host, 5))
  for i = 1, 5 do assert(process.send(pid, "n", i)) end
  assert(process.send(pid, "go"))
  return result_of(pid)
end

function cases.inbox_then_listen(host)
  local switched = process.listen("switched")
  local pid = assert(process.spawn_monitored("t.msg:switcher", host, process.pid()))
  assert(process.send(pid, "a", 1))
  recv(switched)
  assert(process.send(pid, "a", 2))
  assert(process.send(pid, "b", 3))
  return result_of(pid)
end

function cases.listen_beats_inbox(host)
  local ready = process.listen("ready")
  local pid = assert(process.spawn_monitored("t.msg:topics", host, process.pid()))
  recv(ready)
  assert(process.send(pid, "a", "for a"))
  assert(process.send(pid, "b", "for the inbox"))
  return result_of(pid)
end

-- when the EXIT is received, every message the process sent is already queued:
-- a marker sent to ourselves afterwards comes after all of them
function cases.messages_before_exit(host, n)
  local ch = process.listen("n")
  local pid = assert(process.spawn_monitored("t.msg:burst", host, process.pid(), n))
  local count = result_of(pid)
  assert(process.send(process.pid(), "n", "marker"))
  local got = {}
  for i = 1, count + 1 do got[i] = recv(ch) end
  local in_order = true
  for i = 1, count do in_order = in_order and got[i] == i end
  return {in_order = in_order, last = got[count + 1]}
end

function cases.unsubscribe(host)
  local ready, closed = process.listen("ready"), process.listen("closed")
  local pid = assert(process.spawn_monitored("t.msg:unsubscribe", host, process.pid()))
  recv(ready)
  assert(process.send(pid, "a", 1))
  recv(closed)
  assert(process.send(pid, "a", 2))
  return result_of(pid)
end

function cases.bad_arguments(host)
  return result_of(assert(process.spawn_monitored("t.msg:bad_arguments", host)))
end

function cases.reserved(host)
  local pid = assert(process.spawn_monitored("t.msg:reserved", host))
  return result_of(pid)
end

function cases.modes(host)
  local pid = assert(process.spawn_monitored("t.msg:modes", host))
  return result_of(pid)
end

function cases.to_self(host)
  local pid = assert(process.spawn_monitored("t.msg:to_self", host))
  return result_of(pid)
end

return {main = function(case, ...) return cases[case](...) end}
