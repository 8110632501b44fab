-- Code that never waits (docs/reference/semantics.md, "Execution") and a well-behaved neighbour.
local M = {}

function M.spin()
  while true do end
end

-- the budget error must not be catchable
function M.spin_in_pcall()
  while true do
    pcall(function() while true do end end)
  end
end

function M.spin_in_coroutine()
  local co = coroutine.wrap(function() while true do end end)
  co()
end

function M.spin_in_spawned()
  coroutine.spawn(function() while true do end end)
  process.listen("never"):receive()
end

function M.recurse()
  local function down(n) return 1 + down(n + 1) end
  return down(1)
end

-- raised values whose __tostring misbehaves: the runtime turns them into errors
local function raise_with_tostring(f)
  error(setmetatable({}, {__tostring = f}))
end

function M.tostring_raises()
  raise_with_tostring(function() error("inside __tostring") end)
end

function M.tostring_not_a_string()
  raise_with_tostring(function() return {} end)
end

function M.tostring_loops()
  raise_with_tostring(function() while true do end end)
end

-- patterns whose C matcher would backtrack for hours (docs/sandbox.md)
function M.pattern_exponential()
  return ("a"):rep(40):match(("a?"):rep(40) .. ("a"):rep(40))
end

function M.pattern_polynomial()
  return (("a"):rep(200000)):find(".-.-.-b")
end

-- many calls that are each bounded: their charged cost ends the step
function M.pattern_gsub_loop()
  local s = ("ab"):rep(50)
  for _ = 1, 2000 do s:gsub("a.-.-b", "x") end
  return "finished"
end

function M.pattern_gmatch()
  for w in (("a"):rep(100000)):gmatch("a-a-a-b") do return w end
end

-- everyday patterns behave as in plain Lua
function M.pattern_normal_uses()
  local k, v = ("key=value"):match("^(%w+)=(%w+)$")
  local words = {}
  for w in ("the quick  brown fox"):gmatch("%a+") do words[#words + 1] = w end
  local up = ("hello world"):gsub("%w+", function(w) return w:upper() end)
  local trimmed = ("  padded\t "):match("^%s*(.-)%s*$")
  return {k = k, v = v, words = words, up = up, trimmed = trimmed,
          pos = {string.find("a.b", ".", 1, true)}}
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
