-- Processes under test for the name registry (docs/reference/semantics.md, "Names";
-- docs/reference/lua-modules.md, "Spawner builders", "Name registry").
local M = {}

-- registers `name`, says so, and ends when told to
function M.holder(parent, name)
  assert(process.registry.register(name))
  assert(process.send(parent, "registered"))
  process.listen("go"):receive()
  return "released"
end

-- collects `n` messages of `topic`, with whether each came from `parent`
function M.collector(parent, topic, n)
  local ch = process.listen(topic, {message = true})
  local got = {}
  for i = 1, n do
    local m = ch:receive()
    got[i] = {m:payload():data(), m:from() == parent}
  end
  return got
end

function M.sender(dest, topic, value)
  assert(process.send(dest, topic, value))
end

return M
