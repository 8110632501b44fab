local function main()
  local events = process.events()
  local out = assert(process.exec("ex.family:parent", "app:worker", 4))
  assert(process.monitor(out.orphan))
  assert(process.monitor(out.bound))
  local fates = {}
  for _ = 1, 2 do
    local ev = events:receive()
    if ev.from == out.orphan then
      fates.orphan = ev.result.value
    else
      fates.bound = ev.result.error and ev.result.error:message()
    end
  end
  out.orphan, out.bound = nil, nil
  out.fates = fates
  return out
end

return {main = main}
