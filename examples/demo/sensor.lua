-- Sends a reading to the tally every 100 ms and crashes after `limit` readings.
local time = require("time")
local logger = require("logger")

local function main(limit)
  for n = 1, limit do
    time.sleep("100ms")
    process.send("tally", "reading", n)
  end
  logger:warn("sensor overheated", {after = limit})
  error("sensor overheated after " .. limit .. " readings")
end

return {main = main}
