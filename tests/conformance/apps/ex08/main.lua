-- sends one request and returns the replies that belong to it
local function ask(inbox, pid, topic, body)
  assert(process.send(pid, topic, body))
  local first = inbox:receive()
  if first:topic() == "nak" then
    return {"nak", first:payload():data()}
  end
  local second = inbox:receive()
  return {first:topic(), second:topic(), second:payload():data()}
end

local function main()
  local inbox = process.inbox()
  local events = process.events()
  local pid = assert(process.spawn_monitored("ex.tally:tally", "app:worker", {value = 10}))
  local out = {}
  out.add5 = ask(inbox, pid, "add", {by = 5})
  out.sub20 = ask(inbox, pid, "sub", {by = 20})
  out.bad = ask(inbox, pid, "add", {by = "x"})
  out.sub4 = ask(inbox, pid, "sub", {by = 4})
  out.close = ask(inbox, pid, "close", {})
  out.exit = events:receive().result.value
  return out
end

return {main = main}
