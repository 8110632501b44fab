local time = require("time")

local function mentions_link(e)
  return e:message():find("linked process", 1, true) ~= nil
end

local function main()
  local events = process.events()
  local notes = process.listen("sleeper")
  local plain = assert(process.spawn_monitored("ex.links:holder", "app:processes", false, process.pid()))
  local sleeper = notes:receive()
  assert(process.monitor(sleeper))
  local trapped = assert(process.spawn_monitored("ex.links:holder", "app:processes", true, process.pid()))

  local out, pending = {}, 3
  local deadline = time.after("3s")
  while pending > 0 do
    local r = channel.select{events:case_receive(), deadline:case_receive()}
    if r.channel == deadline then return nil, errors.new("timed out") end
    local ev, e = r.value, r.value.result.error
    if ev.from == plain then
      out.untrapped = {kind = e:kind(), mentions_link = mentions_link(e), linked_kind = e:details().linked_kind}
    elseif ev.from == sleeper then
      out.sleeper = {kind = e:kind(), mentions_link = mentions_link(e)}
    elseif ev.from == trapped then
      out.trapped = ev.result.value
    end
    pending = pending - 1
  end
  return out
end

return {main = main}
