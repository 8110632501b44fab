-- Ping-pong between two native processes.

-- Answers every "ping" with a "pong" carrying the same value; returns on "stop".
local function ponger()
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    if msg:topic() == "stop" then return end
    process.send(msg:from(), "pong", msg:payload():data())
  end
end

-- Spawns a ponger, does n round trips with it, stops it and returns n.
local function pinger(n)
  local inbox = process.inbox()
  local peer = assert(process.spawn("bench:ponger", "bench:processes"))
  local last
  for i = 1, n do
    assert(process.send(peer, "ping", i))
    last = inbox:receive()
  end
  assert(process.send(peer, "stop"))
  if n > 0 and last:payload():data() ~= n then error("lost a pong") end
  return n
end

return {pinger = pinger, ponger = ponger}
