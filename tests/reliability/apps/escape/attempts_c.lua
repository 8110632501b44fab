-- Attacks on C library functions: work done in C that the instruction budget cannot see.
-- Same protocol as attempts.lua: each returns nil when it gained nothing, or a string naming
-- what it reached; raising is a refusal; a budget kill ends the process.
local A = {}

function A.string_rep_of_nothing() return #string.rep("", math.maxinteger) end

local function run(name)
  local f = A[name]
  if not f then error("no attempt named " .. tostring(name)) end
  local ok, res = pcall(f)
  if ok then return {escaped = res or false} end
  local msg = (type(res) == "table" and getmetatable(res) == "error") and res:message()
    or type(res) == "string" and res or "(a " .. type(res) .. " was raised)"
  return {escaped = false, error = msg}
end

return {main = run, names = function()
  local t = {}
  for k in pairs(A) do t[#t + 1] = k end
  table.sort(t)
  return t
end}
