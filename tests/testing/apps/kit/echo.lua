-- Answers the first n messages with "echo" (same payload), then returns "done".
local function main(n)
  local inbox = process.inbox()
  for _ = 1, n do
    local msg = inbox:receive()
    process.send(msg:from(), "echo", msg:payload():data())
  end
  return "done"
end
return {main = main}
