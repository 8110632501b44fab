-- The `channel` module (lua-api.md §3): in-process channels and select.

local K = ...
local M = {}

function M.new(size)
  if size == nil then size = 0 end
  if math.type(size) ~= "integer" then
    if type(size) == "number" and size == math.floor(size) then size = math.tointeger(size) else
      K.invalid("channel.new: size must be a non-negative integer", 2)
    end
  end
  if size < 0 then K.invalid("channel.new: size must be a non-negative integer", 2) end
  return (K.new_channel(size, false))
end

M.select = K.select

return M
