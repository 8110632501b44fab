-- A service that computes for a while (within the step budget) right after it starts,
-- calling into the runtime all along, then waits to be stopped.
return function()
  local events = process.events()
  print("busy computing")
  local t = 0
  for _ = 1, 300000 do t = t + os.time() % 7 end
  print("busy done computing")
  local ev = events:receive()
  print("busy stopping: " .. ev.kind .. " " .. ev.reason)
  return t
end
