local time = require("time")

local function main()
  local events = process.events()
  local answers = process.listen("pong")
  local pong, err = process.spawn_monitored("ex.ping:pong", "app:processes", 3)
  if not pong then return nil, err end

  local texts = {}
  for n = 1, 3 do
    -- the first ping goes to the PID (the name may not exist yet), later ones use the name
    local target = (n == 1) and pong or "pong"
    assert(process.send(target, "ping", {n = n}))
    local r = channel.select{answers:case_receive(), time.after("2s"):case_receive()}
    if r.channel ~= answers then return nil, errors.new("pong did not answer") end
    texts[n] = r.value.text
  end

  local exit = events:receive()
  local _, gone = process.registry.lookup("pong")

  assert(process.registry.register("ping-main"))
  local first = process.registry.unregister("ping-main")
  local second = process.registry.unregister("ping-main")

  return {
    texts = texts,
    exit_kind = exit.kind,
    exit_from_pong = exit.from == pong,
    served = exit.result.value,
    name_after_exit = gone and gone:kind(),
    unregister = {first, second},
  }
end

return {main = main}
