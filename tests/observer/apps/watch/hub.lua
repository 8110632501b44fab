-- The observed process: registered as "hub", linked to one peer, monitoring another,
-- with two messages it never reads. It makes crew member "first" crash once.
local logger = require("logger")

local function main()
  assert(process.registry.register("hub"))
  local linked = assert(process.spawn_linked("watch:peer", "watch:procs"))
  local watched = assert(process.spawn_monitored("watch:peer", "watch:procs"))
  process.spawn("watch:doomed", "watch:procs")
  process.send(process.pid(), "unread", 1)
  process.send(process.pid(), "unread", 2)
  local started = process.listen("started")
  local events = process.events()
  logger:info("hub ready", {linked = linked, watched = watched})
  local crashed = false
  while true do
    local r = channel.select{started:case_receive(), events:case_receive()}
    if r.channel == events then return end
    local from = r.value
    if from == "first" and not crashed then
      crashed = true
      process.send(process.registry.lookup("first"), "crash")
    elseif from == "first" then
      logger:info("crew member first restarted")
    end
  end
end

return {main = main}
