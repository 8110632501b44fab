local time = require("time")

local SLEEPER, WORKER = "ex.conflict:sleeper", "app:worker"
local function with(options) return process.with_options(options) end

local function main()
  local events = process.events()
  local id = "conflict-demo"
  local fixed = with({["temporal.workflow.id"] = id})

  local pid = assert(fixed:spawn_monitored(SLEEPER, WORKER, {duration = "1h"}))

  local p1, e1 = with({["temporal.workflow.id"] = id, ["temporal.workflow.id_conflict_policy"] = "fail"})
    :spawn(SLEEPER, WORKER, {duration = "1s"})
  local p2, e2 = with({["temporal.workflow.id"] = id,
                       ["temporal.workflow.execution_error_when_already_started"] = true})
    :spawn(SLEEPER, WORKER, {duration = "1s"})
  local reused = assert(fixed:spawn(SLEEPER, WORKER, {duration = "1s"}))

  assert(process.terminate(pid))
  local ended = events:receive()

  local fresh = assert(fixed:spawn_monitored(SLEEPER, WORKER, {duration = "50ms"}))
  local woke = events:receive()

  local started = time.now()
  local timed = assert(with({
    ["temporal.workflow.id"] = "options-demo",
    ["temporal.workflow.task_queue"] = "examples",
    ["temporal.workflow.execution_timeout"] = "1500ms",
    ["temporal.workflow.run_timeout"] = 1500,
    ["temporal.workflow.task_timeout"] = "10s",
    ["temporal.workflow.id_reuse_policy"] = "allow_duplicate",
    ["temporal.workflow.retry_policy"] = {maximum_attempts = 1},
    ["temporal.workflow.memo"] = {source = "examples"},
    ["temporal.workflow.search_attributes"] = {CustomerId = "cust-9"},
    ["temporal.workflow.enable_eager_start"] = false,
    ["temporal.workflow.start_delay"] = "200ms",
    ["temporal.workflow.namespace"] = "default",
  }):spawn_monitored(SLEEPER, WORKER, {duration = "1h"}))
  local timeout = events:receive()
  local elapsed = time.now():sub(started):milliseconds()

  return {
    fail = {pid = p1, kind = e1:kind(), retryable = e1:retryable()},
    error_when_started = {pid = p2, kind = e2:kind()},
    reused_same_pid = reused == pid,
    terminated = {kind = ended.result.error:kind(), message = ended.result.error:message()},
    fresh_same_pid = fresh == pid,
    fresh_value = woke.result.value,
    timed_out = {kind = timeout.result.error:kind(), from_ok = timeout.from == timed,
                 elapsed_ok = elapsed >= 1500 and elapsed < 5000},
  }
end

return {main = main}
