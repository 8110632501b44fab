local M = {}

function M.start_nap(ms)
  local note = process.listen("napping")
  local pid = assert(process.with_options({}):with_name("nap-" .. ms)
    :spawn("ex.nap:nap", "app:worker", ms, process.pid()))
  note:receive()                  -- the workflow is running and its timer is being started
  return pid
end

function M.await_nap(pid)
  local time = require("time")
  local events = process.events()
  assert(process.monitor(pid))
  local r = channel.select{events:case_receive(), time.after("20s"):case_receive()}
  if r.channel ~= events then return nil, errors.new("nap never finished") end
  return r.value.result.value
end

return M
