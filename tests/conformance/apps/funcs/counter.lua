-- globals and top-level state must start fresh on every call
local calls = 0
return function()
  calls = calls + 1
  COUNT = (COUNT or 0) + 1
  return {calls = calls, global = COUNT}
end
