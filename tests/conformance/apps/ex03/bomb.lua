local time = require("time")

local function main()
  time.sleep("150ms")
  return nil, errors.new({message = "bomb went off", kind = errors.UNAVAILABLE})
end

return {main = main}
