-- A crew member: registers its name, tells the hub it started, crashes on "crash" and
-- stops on CANCEL.
local function main(name)
  assert(process.registry.register(name))
  process.send("hub", "started", name)
  local r = channel.select{process.inbox():case_receive(), process.events():case_receive()}
  if r.value.kind == nil and r.value:topic() == "crash" then error(name .. " crashed") end
end

return {main = main}
