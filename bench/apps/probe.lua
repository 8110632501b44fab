-- Lua-only reference loops for profiling: each runs n operations inside one
-- function frame (no process switch through the scheduler) and returns the
-- seconds they took. bench/run.py --profile prints them per operation.

local probes = {}

-- An empty loop: the floor.
function probes.loop(n)
  local x = 0
  for i = 1, n do x = x + i end
  return x
end

-- Two coroutines of one frame doing round trips over unbuffered channels:
-- the kernel's channel handoff and coroutine switch, twice per round trip.
function probes.channel(n)
  local ping, pong = channel.new(0), channel.new(0)
  coroutine.spawn(function()
    for _ = 1, n do pong:send(ping:receive()) end
  end)
  for i = 1, n do
    ping:send(i)
    pong:receive()
  end
end

-- process.send to itself followed by a receive from the inbox: copy, message
-- object, mailbox delivery and receive, without a process switch.
function probes.self_send(n)
  local inbox, me = process.inbox(), process.pid()
  for i = 1, n do
    process.send(me, "x", i)
    inbox:receive():payload():data()
  end
end

-- process.send to itself only (messages pile up in the inbox buffer).
function probes.send_only(n)
  local inbox, me = process.inbox(), process.pid()
  for i = 1, n do process.send(me, "x", i) end
  for _ = 1, n do inbox:receive() end
end

return function(what, n)
  local probe = probes[what]
  if not probe then error("unknown probe " .. tostring(what)) end
  local t0 = os.clock()
  probe(n)
  return os.clock() - t0
end
