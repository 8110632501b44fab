-- Fan-in: many native processes send to one.

-- Sends `count` messages to `to`.
local function sender(to, count)
  for i = 1, count do
    assert(process.send(to, "m", i))
  end
end

-- Spawns `senders` senders of `per_sender` messages each, receives all of
-- them and returns how many it received.
local function receiver(senders, per_sender)
  local inbox = process.inbox()
  local me = process.pid()
  for _ = 1, senders do
    assert(process.spawn("bench:fanin_sender", "bench:processes", me, per_sender))
  end
  local total, sum = senders * per_sender, 0
  for _ = 1, total do
    sum = sum + inbox:receive():payload():data()
  end
  if sum ~= senders * per_sender * (per_sender + 1) // 2 then error("lost a message") end
  return total
end

return {sender = sender, receiver = receiver}
