local time = require("time")

local function main(ms, notify)
  local before = time.now()
  process.send(notify, "napping")
  time.sleep(ms * time.MILLISECOND)
  return {slept_ms = time.now():sub(before):milliseconds()}
end

return {main = main}
