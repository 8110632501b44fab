return function()
  local pid = "{dur:temporal@dur:worker|flow-1}"
  assert(process.monitor(pid))
  return process.events():receive().result.value
end
