-- The `channel` module (docs/reference/lua-modules.md, "channel"): in-process channels and select.

local K = ...
local M = {}

-- Accepted sizes: nil (0), integers >= 0, and floats with such an integer value
-- (2.0). NaN, infinities, fractions, negatives and floats beyond the integers
-- (1e300) are refused.
local function bad_size(size)
  local shown = type(size) == "number" and tostring(size) or type(size)
  K.invalid("channel.new: channel size must be a non-negative integer, got " .. shown, 3)
end

function M.new(size)
  if size == nil then size = 0 end
  if math.type(size) ~= "integer" then
    local n = type(size) == "number" and math.tointeger(size) or nil
    if n == nil then bad_size(size) end
    size = n
  end
  if size < 0 then bad_size(size) end
  return (K.new_channel(size, false))
end

M.select = K.select

return M
