-- Drives a sink: sends `total` messages of topic "n" and reports what the sink received,
-- the errors the sends returned and when (milliseconds after the start) each send returned.
local time = require("time")

local function spawner(policy, scope)
  if not policy then return process.with_options({}) end
  local bound = {capacity = 3, overflow = policy}
  if scope == "topic" then
    return process.with_options({mailbox = {topics = {n = bound}}})
  end
  bound.topics = {go = {capacity = 1}}
  return process.with_options({mailbox = bound})
end

local function main(entry, mode, total, policy, scope)
  local got = process.listen("got")
  local start = time.now()
  local pid = assert(spawner(policy, scope):spawn("t.mbox:" .. entry, "t.mbox:processes",
                                                 process.pid(), mode, total))
  local errors, returned = {}, {}
  for i = 1, total do
    local ok, err = process.send(pid, "n", i)
    if not ok then
      errors[#errors + 1] = {i = i, kind = err:kind(), retryable = err:retryable(),
                             message = err:message()}
    end
    returned[i] = time.now():sub(start):milliseconds()
  end
  if mode == "gate" then process.send(pid, "go") end
  return {got = got:receive(), errors = errors, returned = returned}
end

-- A sender blocked on a full mailbox whose receiver ends: the send fails with NotFound.
local function blocked_then_receiver_dies()
  local pid = assert(process.with_options({mailbox = {capacity = 1}})
    :spawn("t.mbox:plain", "t.mbox:processes", process.pid(), "gate", 0))
  assert(process.send(pid, "n", 1))
  coroutine.spawn(function()
    time.sleep("1s")
    process.terminate(pid)
  end)
  local ok, err = process.send(pid, "n", 2)
  return {ok = ok == true, kind = err and err:kind(), message = err and err:message()}
end

-- Bad spawn options are Invalid errors naming the field.
local function bad_option(mailbox)
  local _, err = process.with_options({mailbox = mailbox}):spawn("t.mbox:plain", "t.mbox:processes")
  return {kind = err:kind(), message = err:message()}
end

return {main = function(case, ...)
  if case == "drive" then return main(...) end
  if case == "blocked_then_receiver_dies" then return blocked_then_receiver_dies() end
  if case == "bad_option" then return bad_option(...) end
  error("unknown case " .. tostring(case))
end}
