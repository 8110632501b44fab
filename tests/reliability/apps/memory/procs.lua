-- Processes that allocate without limit, and a well-behaved neighbour.
local M = {}

local function grow()
  local t, i = {}, 0
  while true do
    i = i + 1
    t[i] = {i, i + 1}
  end
end

M.grow_table = grow

function M.grow_string()
  local s = "x"
  while true do s = s .. s end
end

function M.grow_global()
  big = {}
  local i = 0
  while true do
    i = i + 1
    big[i] = string.rep("y", 64) .. i
  end
end

-- the memory error must not be catchable: the loop would retry forever
function M.grow_in_pcall()
  while true do pcall(grow) end
end

function M.grow_in_coroutine()
  local co = coroutine.wrap(grow)
  co()
end

function M.grow_in_spawned()
  coroutine.spawn(grow)
  process.listen("never"):receive()
end

-- a result that fits in the state, but its copy for the watchers does not (issue #17: the
-- copy runs outside the process, on the node's main thread)
function M.big_result()
  local t = {}
  for i = 1, 110000 do t[i] = {i} end
  return t
end

function M.small(n)
  local t = {}
  for i = 1, n or 1000 do t[i] = i end
  return #t
end

-- answers every ping until told to stop
function M.echo()
  local inbox = process.inbox()
  while true do
    local m = inbox:receive()
    if m:topic() == "stop" then return "stopped" end
    assert(process.send(m:from(), "pong", m:payload():data()))
  end
end

return M
