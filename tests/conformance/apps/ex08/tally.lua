-- a durable counter; every request gets "ack" then "ok", or a single "nak"
local function whole(body)
  return type(body) == "table" and math.type(body.by) == "integer"
end

local function main(start)
  local value = start.value or 0
  local applied = 0
  local open = true

  local function serve(topic, check, apply)
    coroutine.spawn(function()
      local requests = process.listen(topic, {message = true})
      while open do
        local msg, ok = requests:receive()
        if not ok then return end
        local body, asker = msg:payload():data(), msg:from()
        local problem = check(body)
        if problem then
          process.send(asker, "nak", problem)
        else
          process.send(asker, "ack")
          apply(body)
          applied = applied + 1
          process.send(asker, "ok", {value = value})
        end
      end
    end)
  end

  serve("add",
    function(b) if not whole(b) then return "by must be an integer" end end,
    function(b) value = value + b.by end)
  serve("sub",
    function(b)
      if not whole(b) then return "by must be an integer" end
      if value - b.by < 0 then return "value would go below zero" end
    end,
    function(b) value = value - b.by end)

  local closing = process.listen("close", {message = true}):receive()
  process.send(closing:from(), "ack")
  open = false
  process.send(closing:from(), "ok", {final = value})
  return {final = value, applied = applied}
end

return {main = main}
