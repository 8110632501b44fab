-- Keeps a running total of sensor readings; answers "get" with the total.
local function main()
  assert(process.registry.register("tally"))
  local inbox, events = process.inbox(), process.events()
  local total, readings = 0, 0
  while true do
    local r = channel.select{inbox:case_receive(), events:case_receive()}
    if r.channel == events then
      if r.value.kind == process.event.CANCEL then return {total = total, readings = readings} end
    elseif r.value:topic() == "reading" then
      total = total + r.value:payload():data()
      readings = readings + 1
    elseif r.value:topic() == "get" then
      process.send(r.value:from(), "total", {total = total, readings = readings})
    end
  end
end

return {main = main}
