-- starts n workflows on the shared queue and returns the nodes their activities ran on
return function(n)
  local events = process.events()
  for _ = 1, n do assert(process.spawn_monitored("multi:job", "multi:worker")) end
  local nodes = {}
  for _ = 1, n do
    local frame = assert(events:receive().result.value)
    nodes[frame:match("^{([^@]+)@")] = true
  end
  local out = {}
  for node in pairs(nodes) do out[#out + 1] = node end
  table.sort(out)
  return out
end
