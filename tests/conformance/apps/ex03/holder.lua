-- trap = false: fails together with the bomb and takes its linked sleeper along
-- trap = true:  survives and reports what it observed
local function main(trap, report_to)
  process.set_options({trap_links = trap})
  if not trap then
    local sleeper = assert(process.spawn("ex.links:sleeper", "app:processes"))
    assert(process.link(sleeper))
    process.send(report_to, "sleeper", sleeper)
    assert(process.spawn_linked("ex.links:bomb", "app:processes"))
    process.inbox():receive()
    return "unreachable"
  end

  local events = process.events()
  local bomb = assert(process.spawn_linked_monitored("ex.links:bomb", "app:processes"))
  local first = events:receive()
  local second = events:receive()
  local cause = second.result.error
  return {
    trap_links = process.get_options().trap_links,
    order = {first.kind, second.kind},
    both_from_bomb = first.from == bomb and second.from == bomb,
    cause = cause:message(),
    cause_kind = cause:kind(),
  }
end

return {main = main}
