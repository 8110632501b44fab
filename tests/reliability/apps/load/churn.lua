-- Spawns `total` workers, `batch` alive at a time. Each is linked to and
-- monitored by the caller, has a name and a bounded mailbox (every other one),
-- gets one message, answers it and returns. Returns the counts observed.
return function(total, batch)
  local done = process.listen("done")
  local events = process.events()
  local exits, answers, i = 0, 0, 0
  local bounded = process.with_options({mailbox = {capacity = 4, topics = {job = {capacity = 1}}}})
  local plain = process.with_options({})
  while i < total do
    local n = math.min(batch, total - i)
    for k = 1, n do
      local id = i + k
      local sp = (id % 2 == 0) and bounded or plain
      local pid = assert(sp:with_name("w" .. id):spawn_linked_monitored(
        "load:worker", "load:processes", "w" .. id))
      assert(process.send(pid, "job", id))
    end
    for _ = 1, n do
      done:receive()
      answers = answers + 1
    end
    for _ = 1, n do
      local ev = events:receive()
      if ev.kind == process.event.EXIT and ev.result.value then exits = exits + 1 end
    end
    i = i + n
  end
  return {answers = answers, exits = exits}
end
