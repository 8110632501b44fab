-- Processes under test for payload copying (docs/reference/semantics.md, "Payloads").
local M = {}

-- sends the message it receives back to `parent`, returns its spawn argument
function M.mirror(parent, arg)
  local v = process.listen("v"):receive()
  assert(process.send(parent, "back", v))
  return arg
end

-- changes what it received, both in its argument and in a message
function M.mutator(parent, arg)
  arg.x = "changed by receiver"
  arg.list[1] = "changed by receiver"
  local t = process.listen("t"):receive()
  t.x = "changed by receiver"
  t.list[1] = "changed by receiver"
  assert(process.send(parent, "mutated"))
  return "done"
end

-- reports the table it received after its sender changed the original
function M.keeper(parent)
  local m = process.listen("t", {message = true}):receive()
  local first = m:payload():data()
  local first_x, list1 = first.x, first.list[1]
  first.x = "changed through data()"
  local second = m:payload():data()
  assert(process.send(parent, "checked"))
  return {first_x = first_x, list1 = list1, second_x = second.x}
end

return M
