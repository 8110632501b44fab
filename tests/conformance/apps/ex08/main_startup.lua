local function collect(inbox, n)
  local got = {}
  for i = 1, n do
    local msg = inbox:receive()
    got[i] = {msg:topic(), msg:payload():data()}
  end
  return got
end

local function main()
  local inbox = process.inbox()
  local events = process.events()
  local name = "tally-startup"

  local first = process.with_options({})
    :with_name(name)
    :with_message("add", {by = 3})
    :with_message("add", {by = 4})
  local pid = assert(first:spawn_monitored("ex.tally:tally", "app:worker", {value = 0}))
  local r1 = collect(inbox, 4)

  local second = process.with_options({}):with_name(name):with_message("add", {by = 2})
  local again = assert(second:spawn("ex.tally:tally", "app:worker", {value = 1000}))
  local r2 = collect(inbox, 2)

  assert(process.send(pid, "close", {}))
  local r3 = collect(inbox, 2)
  local exit = events:receive()
  return {same_pid = again == pid, first = r1, second = r2, closing = r3, exit = exit.result.value}
end

return {main = main}
