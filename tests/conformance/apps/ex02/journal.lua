local time = require("time")

-- records when each run of the flaky worker said hello
local function main()
  assert(process.registry.register("journal"))
  local inbox, events = process.inbox(), process.events()
  local starts = {}
  while true do
    local r = channel.select{inbox:case_receive(), events:case_receive()}
    if r.channel == events then
      if r.value.kind == process.event.CANCEL then return #starts end
    elseif r.value:topic() == "hello" then
      starts[#starts + 1] = time.now():unix_nano()
      process.send(r.value:from(), "run", #starts)
    elseif r.value:topic() == "report" then
      process.send(r.value:from(), "report", starts)
    end
  end
end

return {main = main}
