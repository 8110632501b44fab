local time = require("time")

-- Sleeps for the given duration, tells `to` it woke, and returns the time it slept.
local function main(to, duration)
  local start = time.now()
  time.sleep(duration)
  process.send(to, "woke", duration)
  return {slept_s = time.now():sub(start):seconds()}
end
return {main = main}
