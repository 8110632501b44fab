-- A workflow whose C library work never ends, and a neighbour on the same worker.
local M = {}

-- table.remove(t, 1) moves every element in C: 400 of them on 2e6 elements ran
-- seconds inside one step before the work was charged (docs/sandbox.md)
function M.remove_front()
  local t = {}
  for i = 1, 2e6 do t[i] = i end
  for _ = 1, 400 do table.remove(t, 1) end
  return "400 removes ended"
end

-- returns the first ping it gets
function M.echo() return process.listen("ping"):receive() end

return M
