-- One stage of a pipeline: registers its name, reports to the journal, then obeys messages:
-- "crash" fails, "finish" returns, "fatal" fails with a non-retryable error, "hang" makes it
-- ignore CANCEL from then on.
local function main(name)
  assert(process.registry.register(name))
  process.send("journal", "event", "start:" .. name)
  local inbox, events = process.inbox(), process.events()
  local hang = false
  while true do
    local r = channel.select{inbox:case_receive(), events:case_receive()}
    if r.channel == events then
      if r.value.kind == process.event.CANCEL and not hang then
        process.send("journal", "event", "stop:" .. name)
        return "stopped"
      end
    else
      local topic = r.value:topic()
      if topic == "crash" then
        error(name .. " crashed")
      elseif topic == "finish" then
        return "done"
      elseif topic == "fatal" then
        return nil, errors.new({kind = errors.INVALID, message = name .. " gave up", retryable = false})
      elseif topic == "hang" then
        hang = true
      end
    end
  end
end

return {main = main}
