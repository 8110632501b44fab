-- Receives n "item" messages and returns them in arrival order.
local function main(n)
  local items = process.listen("item")
  local got = {}
  for i = 1, n do got[i] = items:receive() end
  return got
end

return {main = main}
