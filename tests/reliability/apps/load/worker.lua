-- Registers a name, subscribes, answers one message and returns.
local function main(name)
  assert(process.registry.register(name))
  local inbox = process.inbox()
  local msg = inbox:receive()
  process.send(msg:from(), "done", msg:payload():data())
  return name
end

return {main = main}
