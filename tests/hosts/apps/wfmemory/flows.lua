-- Workflows that allocate far past the test's 16 MiB limit, and a neighbour.
local M = {}

-- 64 MiB, then it gives up: without a limit the workflow returns instead of
-- taking the machine's memory
local function grow()
  local t = {}
  for i = 1, 65536 do t[i] = string.rep("x", 1024) .. i end
  return "grew " .. #t
end

M.grow_table = grow

-- the memory error must not be catchable
function M.grow_in_pcall()
  local ok, why = pcall(grow)
  if ok then return why end
  return "caught: " .. tostring(why)
end

-- tells its starter it runs (so its state is resident), then echoes one ping
function M.echo(starter)
  assert(process.send(starter, "ready", true))
  return process.listen("ping"):receive()
end

return M
