-- answers `limit` pings, then exits with the number it answered
local function main(limit)
  process.registry.register("pong")
  local pings = process.listen("ping", {message = true})
  for _ = 1, limit do
    local msg = pings:receive()
    local n = msg:payload():data().n
    process.send(msg:from(), "pong", {n = n, text = "pong:" .. n})
  end
  return limit
end

return {main = main}
