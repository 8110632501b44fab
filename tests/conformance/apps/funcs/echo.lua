return function()
  local m = process.inbox():receive()
  assert(process.send(m:from(), "echo", m:payload():data()))
  return "echoed"
end
