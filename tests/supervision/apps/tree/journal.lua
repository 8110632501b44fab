-- Records what the stages report, in order; answers "report" with the list so far.
local function main()
  assert(process.registry.register("journal"))
  local inbox, events = process.inbox(), process.events()
  local seen = {}
  while true do
    local r = channel.select{inbox:case_receive(), events:case_receive()}
    if r.channel == events then
      if r.value.kind == process.event.CANCEL then return #seen end
    elseif r.value:topic() == "event" then
      seen[#seen + 1] = r.value:payload():data()
    elseif r.value:topic() == "report" then
      process.send(r.value:from(), "report", seen)
    end
  end
end

return {main = main}
