local workflow = require("workflow")

local W = "app:worker"

local function main(n)
  local events = process.events()

  local direct = workflow.exec("ex.family:square", n)

  local kid = assert(process.spawn("ex.family:square", W, n + 1))
  local bad = assert(process.spawn("ex.family:broken", W))
  local calm = assert(process.with_options({["temporal.workflow.wait_for_cancellation"] = true})
    :spawn("ex.family:listener", W))
  assert(process.cancel(calm, "parent is done with you"))

  local seen = {}
  for _ = 1, 3 do
    local ev = events:receive()
    if ev.from == kid then
      seen.kid = {kind = ev.kind, value = ev.result.value}
    elseif ev.from == bad then
      local e = ev.result.error
      seen.bad = {error_kind = e:kind(), retryable = e:retryable(), message = e:message()}
    elseif ev.from == calm then
      seen.calm = ev.result.value
    end
  end

  local value, exec_err = process.exec("ex.family:broken", W)
  local _, monitor_err = process.monitor(kid)

  local orphan = assert(process.with_options({["temporal.workflow.parent_close_policy"] = "abandon"})
    :spawn("ex.family:lingerer", W, 300))
  local bound = assert(process.spawn("ex.family:lingerer", W, 60000))

  return {
    direct = direct,
    kid = seen.kid,
    bad = seen.bad,
    calm = seen.calm,
    exec = {value = value, not_found = errors.is(exec_err, errors.NOT_FOUND)},
    monitor_in_workflow = monitor_err:kind(),
    orphan = orphan,
    bound = bound,
  }
end

return {main = main}
