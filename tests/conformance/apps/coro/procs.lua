-- Processes under test for coroutines and channels (docs/reference/lua-modules.md, "channel",
-- "Coroutines").
local time = require("time")
local funcs = require("funcs")
local M = {}

-- coroutines run in the order they became runnable
function M.fifo()
  local log = {}
  local started = channel.new(3)
  local done = channel.new(3)
  local wake = {channel.new(1), channel.new(1), channel.new(1)}
  for i = 1, 3 do
    coroutine.spawn(function()
      log[#log + 1] = "start" .. i
      started:send(i)
      wake[i]:receive()
      log[#log + 1] = "woke" .. i
      done:send(i)
    end)
  end
  log[#log + 1] = "main"
  for _ = 1, 3 do started:receive() end
  wake[3]:send(true)
  wake[1]:send(true)
  wake[2]:send(true)
  for _ = 1, 3 do done:receive() end
  return log
end

-- blocking orrery calls inside a coroutine driven by coroutine.resume
function M.user_coroutine()
  local ch = channel.new()
  coroutine.spawn(function() ch:send(21) end)
  local co = coroutine.create(function(tag)
    local v = ch:receive()
    time.sleep("1ms")
    local doubled = assert(funcs.call("t.coro:double", v))
    local got = coroutine.yield(tag .. ":" .. doubled)
    return "finished with " .. got
  end)
  local ok1, first = coroutine.resume(co, "tag")
  local status = coroutine.status(co)
  local ok2, second = coroutine.resume(co, "reply")
  return {ok1, first, status, ok2, second, coroutine.status(co)}
end

-- errors inside resumed coroutines and pcall keep standard Lua behaviour around blocking calls
function M.errors_around_blocking()
  local co = coroutine.create(function()
    time.sleep("1ms")
    error("late", 0)
  end)
  local ok, err = coroutine.resume(co)
  local nested = coroutine.wrap(function()
    local inner = coroutine.wrap(function()
      time.sleep("1ms")
      coroutine.yield("inner")
      return "done"
    end)
    coroutine.yield(inner() .. "/" .. inner())
    return "outer done"
  end)
  return {
    resume = {ok, err, coroutine.status(co)},
    pcall_ok = {pcall(function() time.sleep("1ms"); return "slept" end)},
    pcall_err = {pcall(function() time.sleep("1ms"); error("after sleep", 0) end)},
    nested = {nested(), nested()},
  }
end

-- coroutine.wrap generators keep standard behaviour
function M.wrap()
  local gen = coroutine.wrap(function()
    for i = 1, 3 do coroutine.yield(i * 10) end
  end)
  return {gen(), gen(), gen()}
end

function M.coroutine_fails()
  coroutine.spawn(function()
    error(errors.new{kind = errors.CONFLICT, message = "from a coroutine"})
  end)
  process.listen("never"):receive()
  return "main finished"
end

function M.coroutine_raises_text()
  coroutine.spawn(function() error("text from a coroutine") end)
  process.listen("never"):receive()
  return "main finished"
end

-- two coroutines wait for each other on local channels
function M.deadlock()
  local a, b = channel.new(), channel.new()
  coroutine.spawn(function()
    a:receive()
    b:send(1)
  end)
  b:receive()
  a:send(1)
  return "unreachable"
end

function M.lone_receive()
  channel.new():receive()
  return "unreachable"
end

-- main returns while another coroutine is runnable: that coroutine never runs again
function M.discards(parent)
  local gate = channel.new(1)
  local started = channel.new(1)
  coroutine.spawn(function()
    started:send(true)
    gate:receive()
    process.send(parent, "late")
  end)
  started:receive()
  assert(process.send(parent, "early"))
  gate:send(true)
  return "main returned"
end

-- a coroutine waiting on a timer is not a deadlock
function M.sleeper_not_deadlocked()
  local ch = channel.new()
  coroutine.spawn(function()
    time.sleep("20ms")
    ch:send("woke")
  end)
  return ch:receive()
end

return M
