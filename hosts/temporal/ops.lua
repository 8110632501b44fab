-- The Temporal host's operations (H), for a worker's workflow Lua state.
--
-- Trusted code, called with (K, py, config). Every process in this state is a
-- workflow run. An operation that Temporal must record becomes a *command* in
-- the process's outbox; the Python workflow driver executes the commands as
-- SDK calls after the step and resolves their tokens in the order the SDK
-- completes them, which history makes deterministic. Values travel as the
-- codec's msgpack bytes, so a workflow argument, signal or activity result is
-- the same bytes in Lua, in Temporal and in the native state.
--
-- Commands (encoded maps): {op, token, ...}
--   sleep{ns}                 -> resolve(token, true)
--   timer{ns}                 -> resolve(token, fired_at_ns)
--   activity{target, args, options, ctx}
--   child{spec, wait}         -> pid (wait=false) or value (wait=true)
--   signal{target, topic, values}
--   cancel_external{target, reason, from}
--   deliver{kind, target, topic, values, reason, deadline_ns}   (native targets, local activity)
--   entropy{n}                -> recorded bytes (local activity)
-- Results of commands other than timers arrive as (ok, bytes): bytes is the
-- encoded value, or the encoded error when ok is false.

local K, py, config = ...

local H = {}
local codec = K.codec
local new_error = K.error
local type, pairs, tostring, byte = type, pairs, tostring, string.byte

local WORKERS = {}                 -- temporal.worker entry id -> client id
for k, v in pairs(config.workers or {}) do WORKERS[k] = v end

local function Invalid(msg) return new_error("Invalid", msg, false) end

-------------------------------------------------------------------------------
-- Commands
-------------------------------------------------------------------------------

local function emit(me, cmd)
  cmd.where = K.where()
  local bytes, why = codec.encode(cmd)
  if not bytes then return nil, Invalid(why) end
  local ob = me.outbox
  ob[#ob + 1] = bytes
  return true
end

-- Issues a command and waits for its (ok, bytes) result.
local function await_cmd(op, cmd)
  local me = K.current()
  local tok, _, rec = K.request(me, function(ok, data) return {ok, data} end)
  cmd.op, cmd.token = op, tok
  local ok, err = emit(me, cmd)
  if not ok then
    K.forget(tok)
    me.nreq = me.nreq - 1
    return nil, err
  end
  local r = K.recv(rec)
  local value = r[2] ~= nil and codec.decode(r[2]) or nil
  if r[1] then return value end
  return nil, value
end
H.await_cmd = await_cmd

-- The driver takes the commands a step produced.
function H.take_outbox(proc)
  local ob = proc.outbox
  if #ob == 0 then return nil end
  proc.outbox = {}
  return ob
end

-------------------------------------------------------------------------------
-- PIDs
-------------------------------------------------------------------------------

local parse_pid = K.parse_pid
H.parse_pid = parse_pid

-- "workflow", pid | "native", dest | nil, err
local function classify(dest)
  if type(dest) ~= "string" or dest == "" then return nil, Invalid("destination must be a PID or a name") end
  if byte(dest, 1) ~= 123 then return "native", dest end       -- names live in the node's registry
  local node, host = parse_pid(dest)
  if not host then return nil, Invalid("malformed PID " .. dest) end
  if host == "" then return nil, Invalid(dest .. " is not a valid destination") end
  if WORKERS[host] then
    if node ~= WORKERS[host] then return nil, new_error("NotFound", "unknown client " .. tostring(node) .. " in " .. dest) end
    return "workflow", dest
  end
  return "native", dest
end

local function values_array(vals)
  local t = {}
  for i = 1, vals.n do t[i] = vals[i] end
  return t, vals.n
end

H.valid_name = K.valid_name

-------------------------------------------------------------------------------
-- Clock and randomness (recorded or deterministic)
-------------------------------------------------------------------------------

function H.now() return py.now() end
function H.monotonic() return py.monotonic() end

function H.sleep(ns)
  if ns <= 0 then return end
  await_cmd("sleep", {ns = ns})
end

function H.timer(ns, map)
  local me = K.current()
  local tok, obj = K.request(me, map)
  if ns <= 0 then
    K.resolve(tok, py.now())
  else
    emit(me, {op = "timer", token = tok, ns = ns})
  end
  return obj
end

function H.random_bytes(n) return py.random(n) end

function H.entropy(n)
  local v, err = await_cmd("entropy", {n = n})
  if err then return nil, err end
  return v
end

-------------------------------------------------------------------------------
-- Messages and processes
-------------------------------------------------------------------------------

function H.send(dest, topic, n, ...)
  local kind, target = classify(dest)
  if not kind then return nil, target end
  local me = K.current()
  if target == me.pid then
    -- a message to itself goes straight to the mailbox (deterministic on replay)
    local data
    if n == 1 then
      local c, err = K.copy((...))
      if err then return nil, err end
      data = c
    elseif n > 1 then
      local c, err = K.copy({...})
      if err then return nil, err end
      data = c
    end
    K.deliver(me, K.new_message(topic, me.pid, data))
    return true
  end
  local values = {...}
  local _, err
  if kind == "workflow" then
    _, err = await_cmd("signal", {target = target, topic = topic, values = values, n = n})
  else
    _, err = await_cmd("deliver", {kind = "send", target = target, topic = topic, values = values, n = n})
  end
  if err then return nil, err end
  return true
end

local function child_spec(spec)
  if not WORKERS[spec.host] then
    return nil, Invalid("inside a workflow, " .. tostring(spec.host) .. " is not a temporal.worker: children are workflows")
  end
  local args, n = values_array(spec.args)
  local messages
  if spec.messages then
    messages = {}
    for i, m in ipairs(spec.messages) do
      local vals, vn = values_array(m[2])
      messages[i] = {topic = m[1], values = vals, n = vn}
    end
  end
  return {entry = spec.entry, host = spec.host, args = args, n = n, name = spec.name,
          messages = messages, ctx = spec.ctx, options = spec.options}
end

function H.spawn(spec)
  local c, err = child_spec(spec)
  if not c then return nil, err end
  return await_cmd("child", {spec = c, wait = false})
end

function H.exec(spec)
  local c, err = child_spec(spec)
  if not c then return nil, err end
  return await_cmd("child", {spec = c, wait = true})
end

function H.workflow_exec(entry, vals)
  local me = K.current()
  local args, n = values_array(vals)
  return await_cmd("child", {spec = {entry = entry, host = me.host, args = args, n = n, ctx = me.ctx,
                                     same_queue = true}, wait = true})
end

function H.terminate(dest)
  local kind, target = classify(dest)
  if not kind then return nil, target end
  local me = K.current()
  local _, err
  if kind == "workflow" then
    _, err = await_cmd("cancel_external", {target = target, reason = "terminate requested", from = me.pid})
  else
    _, err = await_cmd("deliver", {kind = "terminate", target = target})
  end
  if err then return nil, err end
  return true
end

function H.cancel(dest, reason, deadline_ns)
  local kind, target = classify(dest)
  if not kind then return nil, target end
  local me = K.current()
  local _, err
  if kind == "workflow" then
    if deadline_ns then
      return nil, Invalid("process.cancel: a workflow cannot set a deadline on another workflow")
    end
    _, err = await_cmd("cancel_external", {target = target, reason = reason or "", from = me.pid})
  else
    _, err = await_cmd("deliver", {kind = "cancel", target = target, reason = reason or "",
                                   deadline_ns = deadline_ns})
  end
  if err then return nil, err end
  return true
end

local function not_in_workflow(fn)
  return function()
    return nil, Invalid("process." .. fn .. " not supported in workflow context")
  end
end
H.monitor = not_in_workflow("monitor")
H.unmonitor = not_in_workflow("unmonitor")
H.link = not_in_workflow("link")
H.unlink = not_in_workflow("unlink")

function H.register() return nil, Invalid("process.registry.register is not available in workflows") end
function H.lookup() return nil, Invalid("process.registry.lookup is not available in workflows") end
function H.unregister() return false end

function H.call(target, vals, options, overlay)
  local args, n = values_array(vals)
  return await_cmd("activity", {target = target, args = args, n = n,
                                options = options and options.activity or nil, ctx = overlay})
end

function H.log(level, message, fields)
  local me = K.current()
  local fbytes = fields and codec.encode(fields) or nil
  py.log(level, me and me.pid or "", me and me.entry or "", tostring(message), fbytes)
end

-------------------------------------------------------------------------------
-- The workflow module
-------------------------------------------------------------------------------

function H.workflow_info() return codec.decode(py.info()) end
function H.version(change, min, max)
  local ok, v = py.version(change, min, max)
  if ok then return v end
  error(new_error("Internal", v), 0)
end
function H.history_length() return py.history_length() end
function H.history_size() return py.history_size() end
function H.attrs(search, memo)
  local bytes, why = codec.encode({search = search, memo = memo})
  if not bytes then return nil, Invalid(why) end
  local ok, err = py.attrs(bytes)
  if not ok then return nil, Invalid(err) end
  return true
end

-------------------------------------------------------------------------------
-- Driver entry points (Python)
-------------------------------------------------------------------------------

-- Creates the workflow process; args_bytes is an encoded array of arguments.
function H.start(pid, entry, host, args_bytes, ctx_bytes)
  local args = codec.decode(args_bytes)
  args.n = #args
  local ctx = ctx_bytes and codec.decode(ctx_bytes) or nil
  local proc = K.new_process(pid, entry, host, args, ctx)
  proc.outbox = {}
  return proc
end

function H.step(proc)
  K.step(proc)
  return proc.status == "dead"
end

-- Delivers a signal's values (an encoded array) as one message. Returns nil, or why the
-- values cannot be held in this state (malformed msgpack, a value Lua cannot hold, K.MEMERR);
-- the driver then drops the signal and the process never sees it (docs/guide.md, "Signals
-- that cannot be decoded").
function H.deliver_message(proc, topic, from, values_bytes)
  local ok, vals = pcall(codec.decode, values_bytes)
  if not ok then return tostring(vals) end
  if type(vals) ~= "table" then return "the signal's values are not an array" end
  local data
  local n = #vals
  if n == 1 then data = vals[1] elseif n > 1 then data = vals end
  K.deliver(proc, K.new_message(topic, from, data))
  return nil
end

function H.deliver_event(proc, event_bytes)
  K.deliver(proc, codec.decode(event_bytes))
end

-- The result record as bytes.
function H.result(proc)
  return codec.encode(proc.result) or codec.encode({error = new_error("Invalid", "the workflow result cannot be encoded")})
end

-- Forgets a process without running anything (eviction).
function H.drop(proc)
  if proc.status ~= "dead" then
    proc.dropped = true
    K.exit(proc, {error = new_error("Canceled", "evicted")})
  end
end

K.set_exit_hook(function() end)

return H
