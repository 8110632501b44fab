-- The time module (docs/reference/lua-modules.md, "time"), run inside a process on the host under
-- test.
local time = require("time")

local function since(t0) return time.now():sub(t0):milliseconds() end

local checks = {}

function checks.sleep()
  local out = {}
  local t0 = time.now()
  time.sleep("1.5s")
  out.string_ms = since(t0)
  t0 = time.now()
  time.sleep(250 * time.MILLISECOND)
  out.ns_number_ms = since(t0)
  t0 = time.now()
  time.sleep(time.parse_duration("2m"))
  out.duration_object_ms = since(t0)
  t0 = time.now()
  time.sleep(0)
  time.sleep("-5s")
  out.non_positive_ms = since(t0)
  return out
end

function checks.long_sleep()
  local t0 = time.now()
  time.sleep("1h")
  return since(t0)
end

function checks.after()
  local never = channel.new()
  local t0 = time.now()
  local timer = time.after("300ms")
  local r = channel.select{never:case_receive(), timer:case_receive()}
  local fired = r.value
  local again, ok = timer:receive()
  local now = time.after(0):receive()
  return {
    timer_won = r.channel == timer,
    ms = since(t0),
    value_is_time = fired ~= nil and fired.unix_nano ~= nil and fired:sub(t0):milliseconds() >= 300,
    closed_after_one = again == nil and ok == false,
    zero_delivers = now ~= nil,
  }
end

function checks.guard()
  -- a message arriving before the guard wins the select
  assert(process.send(process.pid(), "hi", "there"))
  local r = channel.select{process.listen("hi"):case_receive(), time.after("5s"):case_receive()}
  return r.value
end

function checks.values()
  local d = time.parse_duration("1h30m")
  local t = time.now()
  local later = t:add(time.parse_duration("1.5s"))
  local bad, err = time.parse_duration("soon")
  local _, sleep_err = time.sleep("forever")
  return {
    constants = {time.NANOSECOND, time.MICROSECOND, time.MILLISECOND, time.SECOND, time.MINUTE,
                 time.HOUR},
    constants_are_integers = math.type(time.HOUR) == "integer",
    minutes = d:minutes(),
    seconds = d:seconds(),
    ms = d:milliseconds(),
    ns = d:nanoseconds(),
    text = tostring(time.parse_duration("1500ms")),
    add_sub = later:sub(t):milliseconds(),
    before = t:before(later),
    after = later:after(t),
    equal = t:equal(t:add(0)),
    unix = t:unix() == t:unix_nano() // time.SECOND,
    rfc3339 = t:format_rfc3339():match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d") ~= nil,
    bad_parse = {returned_nil = bad == nil, kind = err and err:kind()},
    bad_sleep = {kind = sleep_err and sleep_err:kind()},
  }
end

return function(name) return checks[name]() end
