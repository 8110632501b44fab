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

-- Waits for "go", then returns a result of about 2 MB: each of its watchers gets its own
-- copy, made in the exit hook, outside any process.
function M.big_later()
  process.inbox():receive()
  local t = {}
  for i = 1, 30000 do t[i] = {i} end
  return t
end

-- Monitors `target`, then reports to `parent` what its EXIT carried.
function M.watcher(parent, target)
  local events = process.events()
  process.monitor(target)
  assert(process.send(parent, "watching"))
  while true do
    local ev = events:receive()
    if ev.kind == process.event.EXIT then
      local r = ev.result
      local report = r.error and r.error:message() or #r.value
      assert(process.send(parent, "report", report))
      return
    end
  end
end

-- Spawns `n` watchers of one big_later process and returns what each one saw.
function M.many_watchers(n)
  local watching, reports = process.listen("watching"), process.listen("report")
  local target = assert(process.spawn("t.memory:big_later", "t.memory:processes"))
  for _ = 1, n do
    assert(process.spawn("t.memory:watcher", "t.memory:processes", process.pid(), target))
  end
  for _ = 1, n do watching:receive() end
  assert(process.send(target, "go"))
  local seen = {}
  for i = 1, n do seen[i] = reports:receive() end
  return seen
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
