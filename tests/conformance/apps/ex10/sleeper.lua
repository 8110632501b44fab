local time = require("time")

local function main(input)
  time.sleep(input.duration)
  return "woke after " .. input.duration
end

return {main = main}
