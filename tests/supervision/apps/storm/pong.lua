-- Answers every "ping" with a "pong" to its sender, until cancelled.
local function main()
  assert(process.registry.register("pong"))
  local inbox, events = process.inbox(), process.events()
  while true do
    local r = channel.select{inbox:case_receive(), events:case_receive()}
    if r.channel == events then
      if r.value.kind == process.event.CANCEL then return end
    else
      process.send(r.value:from(), "pong", r.value:payload():data())
    end
  end
end

return {main = main}
