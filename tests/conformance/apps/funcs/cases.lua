-- funcs.call scenarios.
local time = require("time")
local funcs = require("funcs")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

local function describe(v, err)
  if err == nil then return {value = v} end
  return {returned_nil = v == nil, kind = err:kind(), message = err:message(),
          retryable = err:retryable(), details = err:details()}
end

local FRAME_PID = "^{[^@|{}]+@orrery:functions|0x%x%x%x%x%x+}$"

local cases = {}

function cases.value()
  return {call = funcs.call("t.funcs:add", 2, 3), executor = funcs.new():call("t.funcs:add", 4, 5)}
end

function cases.returned_error() return describe(funcs.call("t.funcs:failing")) end
function cases.text_error() return describe(funcs.call("t.funcs:text_error")) end
function cases.value_and_error() return describe(funcs.call("t.funcs:value_and_error")) end
function cases.value_and_nil() return describe(funcs.call("t.funcs:value_and_nil")) end
function cases.raised_error() return describe(funcs.call("t.funcs:raiser")) end
function cases.missing() return describe(funcs.call("t.funcs:nope")) end
function cases.malformed() return describe(funcs.call("no-namespace")) end
function cases.process_entry() return describe(funcs.call("t.funcs:echo")) end
function cases.unknown_option()
  return describe(funcs.new():with_options({bogus = 1}):call("t.funcs:add", 1, 2))
end

function cases.timeout()
  local frames = process.listen("frame")
  local events = process.events()
  local seen = channel.new(1)
  coroutine.spawn(function()
    local frame = recv(frames)
    seen:send({pid = frame, monitored = process.monitor(frame)})
  end)
  local t0 = time.now()
  local v, err = funcs.new():with_options({timeout = "100ms"}):call("t.funcs:slow", process.pid())
  local waited = time.now():sub(t0):milliseconds()
  local frame = recv(seen)
  local ev = recv(events)
  return {
    returned_nil = v == nil,
    kind = err and err:kind(),
    waited_100ms = waited >= 100 and waited < 1000,
    frame_monitored = frame.monitored,
    frame_ended = ev.from == frame.pid,
    frame_failed = ev.result.error ~= nil,
  }
end

function cases.timeout_ms()
  local v, err = funcs.new():with_options({timeout = 50}):call("t.funcs:slow", process.pid())
  return {returned_nil = v == nil, kind = err and err:kind()}
end

-- when the caller dies, its function frame is terminated
function cases.caller_dies(host)
  local frames = process.listen("frame")
  local events = process.events()
  local caller = assert(process.spawn("t.funcs:slow_caller", host, process.pid()))
  local frame = recv(frames)
  assert(process.monitor(frame))
  assert(process.terminate(caller))
  local ev = recv(events)
  return {from_frame = ev.from == frame, failed = ev.result.error ~= nil}
end

-- a child started with process.exec outlives its caller
function cases.exec_child_survives(host)
  local children = process.listen("child")
  local caller = assert(process.spawn_monitored("t.funcs:exec_caller", host, process.pid(), host))
  local child = recv(children)
  assert(process.monitor(child))
  assert(process.terminate(caller))
  local first = recv(process.events())
  local sent = process.send(child, "go")
  local second = recv(process.events())
  return {
    caller_ended_first = first.from == caller,
    child_still_alive = sent,
    child_value = second.from == child and second.result.value,
  }
end

function cases.fresh_environment()
  return {funcs.call("t.funcs:counter"), funcs.call("t.funcs:counter")}
end

function cases.frame_pids(host)
  local a, b = funcs.call("t.funcs:whoami"), funcs.call("t.funcs:whoami")
  local from_process = process.exec("t.funcs:caller", host)
  return {
    frame_pid_shape = a:match(FRAME_PID) ~= nil,
    distinct = a ~= b and a ~= process.pid(),
    caller_is_a_frame = process.pid():match(FRAME_PID) ~= nil,
    from_process = from_process.frame:match(FRAME_PID) ~= nil and from_process.me ~= from_process.frame,
  }
end

function cases.frame_uses_process_api(host)
  return funcs.call("t.funcs:networker", host)
end

function cases.arguments_copied()
  local t = {x = "original"}
  local back = funcs.call("t.funcs:mutate", t)
  return {mine = t.x, theirs = back.x}
end

return {main = function(case, ...) return cases[case](...) end}
