-- The native host's operations (H), for the node's shared Lua state.
--
-- Trusted code, called with (K, py, config). Native processes of every
-- process.host, function frames (orrery:functions) and Python mailboxes
-- (orrery:python) live in this one state; their PIDs, names, links and
-- monitors are the tables below, so native-to-native operations never leave
-- Lua. `py` is the table of Python callbacks (timers, clocks, entropy, logs,
-- and `remote` for operations on PIDs of other hosts).
--
-- Invariants:
--   * procs[pid] == proc  iff  proc is alive (K.exit removes it, through on_exit);
--   * names[n] == proc implies n is in proc.names;
--   * q in p.links iff p in q.links; w in t.monitors iff t in w.watching.

local K, py, config = ...

local H = {}
local NODE = config.node
local FUNCTIONS, PYTHON, SYSTEM = "orrery:functions", "orrery:python", "{|system}"
local EXIT, LINK_DOWN, CANCEL = K.EXIT, K.LINK_DOWN, K.CANCEL

local new_error, copy, codec = K.error, K.codec.copy, K.codec
local type, pairs, next, tostring, string_format = type, pairs, next, tostring, string.format
local byte = string.byte
local pack = table.pack

local procs = {}          -- pid -> proc
local names = {}          -- name -> proc
local hosts = {}          -- process.host id -> {running, max, count}
local remote = {}         -- host ids served from Python (temporal workers)
local counter = 0
local trace = nil         -- py.trace while OpenTelemetry tracing is on (H.set_trace)

H.procs = procs

-- Tracing (the observer): spawn, exit and send are reported to py.trace when on.
function H.set_trace(on) trace = on and py.trace or nil end

local function Invalid(msg) return new_error("Invalid", msg, false) end
local function NotFound(msg) return new_error("NotFound", msg) end
local function Unavailable(msg) return new_error("Unavailable", msg) end
local function Canceled(msg) return new_error("Canceled", msg) end

-------------------------------------------------------------------------------
-- Clock
-------------------------------------------------------------------------------

function H.now() return py.now() end
function H.monotonic() return py.monotonic() end

local function rfc3339(ns)
  local sec, frac = ns // 1000000000, ns % 1000000000
  local s = os.date("!%Y-%m-%dT%H:%M:%S", sec)
  if frac ~= 0 then
    s = s .. (string_format(".%09d", frac):gsub("0+$", ""))
  end
  return s .. "Z"
end
H.rfc3339 = rfc3339

-------------------------------------------------------------------------------
-- Hosts
-------------------------------------------------------------------------------

function H.define_host(id, max)
  hosts[id] = {running = false, max = max or 0, count = 0}
end
function H.set_host_running(id, running) hosts[id].running = running end
function H.set_remote_host(id) remote[id] = true end
function H.host_count(id) local h = hosts[id]; return h and h.count or 0 end

-- Live PIDs on a host, for stopping it.
function H.host_pids(id)
  local out = {}
  for pid, p in pairs(procs) do
    if p.host == id then out[#out + 1] = pid end
  end
  table.sort(out)
  return out
end

local function new_pid(host)
  counter = counter + 1
  return string_format("{%s@%s|0x%05x}", NODE, host, counter)
end

local parse_pid = K.parse_pid
H.parse_pid = parse_pid

-- Resolves a destination: "local", proc | "remote", pid | nil, err
local function resolve(dest)
  if type(dest) ~= "string" or dest == "" then
    return nil, Invalid("destination must be a PID or a registered name")
  end
  if byte(dest, 1) ~= 123 then
    local p = names[dest]
    if p then return "local", p end
    return nil, NotFound("no process is registered as \"" .. dest .. "\"")
  end
  local p = procs[dest]
  if p then return "local", p end
  local node, host = parse_pid(dest)
  if not host then return nil, Invalid("malformed PID " .. dest) end
  if host == "" then return nil, Invalid(dest .. " is not a valid destination") end
  if remote[host] then return "remote", dest end
  if hosts[host] or host == FUNCTIONS or host == PYTHON then
    if node ~= NODE then return nil, NotFound("remote nodes are not supported (" .. dest .. ")") end
    return nil, NotFound("process " .. dest .. " is not alive")
  end
  return nil, NotFound("unknown host " .. host .. " in " .. dest)
end
H.resolve = resolve

-------------------------------------------------------------------------------
-- Remote operations (other hosts, through Python)
-------------------------------------------------------------------------------
-- py.remote(token, op, encoded_args) starts the operation; Python resolves the
-- token with (ok, encoded_result_or_error).

local function remote_op(op, args)
  local me = K.current()
  local bytes, why = codec.encode(args)
  if not bytes then return nil, Invalid(why) end
  local tok, _, rec = K.request(me, function(ok, data) return {ok, data} end)
  py.remote(tok, op, bytes)
  local r = K.recv(rec)
  local value = r[2] and codec.decode(r[2])
  if r[1] then return value end
  return nil, value
end
H.remote_op = remote_op

-------------------------------------------------------------------------------
-- Copying values
-------------------------------------------------------------------------------

local function copy_values(vals, what)
  local out = {n = vals.n}
  for i = 1, vals.n do
    local c, why = copy(vals[i])
    if why then return nil, Invalid(what .. ": " .. why) end
    out[i] = c
  end
  return out
end

local function data_of(vals)
  local n = vals.n
  if n == 0 then return nil end
  if n == 1 then return vals[1] end
  local t = {}
  for i = 1, n do t[i] = vals[i] end
  return t
end

-------------------------------------------------------------------------------
-- Messages
-------------------------------------------------------------------------------

-- n values follow topic; they are copied here.
function H.send(dest, topic, n, ...)
  local kind, target = resolve(dest)
  if not kind then return nil, target end
  local me = K.current()
  local from = me and me.pid
  if kind == "local" then
    local data
    if n == 1 then
      local why
      data, why = copy((...))
      if why then return nil, Invalid("cannot send: " .. why) end
    elseif n > 1 then
      local c, err = copy_values(pack(...), "cannot send")
      if not c then return nil, err end
      data = data_of(c)
    end
    -- a bounded mailbox may block this sender, drop, or refuse (docs/mailboxes.md)
    local ok, err = K.offer(target, K.new_message(topic, from, data), true)
    if ok and trace then trace("send", from, target.pid, topic) end
    return ok, err
  end
  local values = {...}
  local _, err = remote_op("send", {dest = target, topic = topic, values = values, n = n, from = from})
  if err then return nil, err end
  return true
end

-------------------------------------------------------------------------------
-- Topology: links and monitors
-------------------------------------------------------------------------------

local function add_monitor(w, t)
  local m = t.monitors
  if not m then m = {}; t.monitors = m end
  m[w] = true
  local wt = w.watching
  if not wt then wt = {}; w.watching = wt end
  wt[t] = true
end

local function add_link(a, b)
  local la = a.links
  if not la then la = {}; a.links = la end
  la[b] = true
  local lb = b.links
  if not lb then lb = {}; b.links = lb end
  lb[a] = true
end

-- Each watcher gets its own copy of an exit result. This runs in the exit hook, outside the
-- ended process, so it never raises and never loses the failure: an error whose copy fails
-- (no memory left) is replaced by one with the same kind and message and no details, or by
-- a prebuilt error (error objects are immutable, so watchers may share it).
local RESULT_OOM = new_error("Internal", "out of memory while copying the exit result", false)

local function copy_error(e)
  local ok, c = pcall(copy, e)
  if ok and c ~= nil then return c end
  local kind, message, retryable = K.error_fields(e)
  ok, c = pcall(new_error, kind, message, retryable)
  return ok and c or RESULT_OOM
end

local function copy_result(result)
  if result.error then return {error = copy_error(result.error)} end
  local ok, c, why = pcall(copy, result.value)
  if ok and why == nil then return {value = c} end
  return {error = ok and Invalid("the result cannot be sent: " .. why) or RESULT_OOM}
end

-- docs/reference/semantics.md, "Exit steps" steps 2, 3, 5 and 6 (the kernel did 1 and 4).
K.set_exit_hook(function(proc, result)
  local pid = proc.pid
  procs[pid] = nil
  local h = hosts[proc.host]
  if h then h.count = h.count - 1 end
  -- 2. function frames this process was waiting on
  local frames = proc.frames
  if frames then
    for f in pairs(frames) do
      if f.status ~= "dead" then K.exit(f, {error = Canceled("caller " .. pid .. " exited")}) end
    end
  end
  -- 3. names
  local ns = proc.names
  if ns then
    for i = 1, #ns do
      if names[ns[i]] == proc then names[ns[i]] = nil end
    end
  end
  -- 5. notifications
  local at
  local waiters = proc.waiters
  if waiters then
    for i = 1, #waiters do K.resolve(waiters[i], copy_result(result)) end
  end
  local monitors = proc.monitors
  if monitors then
    at = rfc3339(py.now())
    for w in pairs(monitors) do
      local wt = w.watching
      if wt then wt[proc] = nil end
      K.deliver(w, {kind = EXIT, from = pid, at = at, result = copy_result(result)})
    end
  end
  local ext = proc.ext_watch
  if ext then
    local ok, bytes = pcall(codec.encode, result)
    if not (ok and bytes) then
      bytes = codec.encode({error = ok and new_error("Invalid", "result cannot be encoded") or RESULT_OOM})
    end
    for i = 1, #ext do py.exit_notify(ext[i], pid, bytes) end
  end
  local links = proc.links
  if links then
    local failed = result.error ~= nil
    if failed and not at then at = rfc3339(py.now()) end
    for peer in pairs(links) do
      local pl = peer.links
      if pl then pl[proc] = nil end
      if failed and peer.status ~= "dead" and not peer.exit_decided then
        K.deliver(peer, {kind = LINK_DOWN, from = pid, at = at, result = copy_result(result)})
      end
    end
  end
  local watching = proc.watching
  if watching then
    for t in pairs(watching) do
      local m = t.monitors
      if m then m[proc] = nil end
    end
  end
  if result.error and not (monitors and next(monitors)) and not (links and next(links))
     and not waiters and not ext and not proc.external then
    -- nobody will see this failure: report it (entry, file and line are in the message)
    local _, message = K.error_fields(result.error)
    py.log("warn", pid, proc.entry, "process failed: " .. tostring(message), nil)
  end
  if proc.remote_watch then py.drop_watches(pid) end
  if proc.external_id then py.mailbox_closed(proc.external_id) end
  if trace then
    local kind, message
    if result.error then kind, message = K.error_fields(result.error) end
    trace("exit", pid, kind, message and tostring(message) or nil)
  end
end)

local function own(dest, fn)
  local me = K.current()
  local kind, target = resolve(dest)
  if not kind then return nil, target end
  if kind == "local" and target == me then
    return nil, Invalid("process." .. fn .. ": a process cannot " .. fn .. " itself")
  end
  return kind, target, me
end

function H.monitor(dest)
  local kind, target, me = own(dest, "monitor")
  if not kind then return nil, target end
  if kind == "remote" then
    me.remote_watch = true
    local _, err = remote_op("watch", {watcher = me.pid, target = target, mode = "monitor"})
    if err then return nil, err end
    return true
  end
  add_monitor(me, target)
  return true
end

local function is_exit_from(pid, kind)
  return function(item)
    return getmetatable(item) == nil and item.kind == kind and item.from == pid
  end
end

function H.unmonitor(dest)
  local me = K.current()
  local kind, target = resolve(dest)
  if kind == "local" then
    if target.monitors then target.monitors[me] = nil end
    if me.watching then me.watching[target] = nil end
    K.purge(me, is_exit_from(target.pid, EXIT))
  elseif kind == "remote" then
    remote_op("unwatch", {watcher = me.pid, target = target, mode = "monitor"})
    K.purge(me, is_exit_from(target, EXIT))
  elseif target:kind() == "Invalid" then
    return nil, target
  elseif type(dest) == "string" and byte(dest, 1) == 123 then
    K.purge(me, is_exit_from(dest, EXIT))
  end
  return true
end

function H.link(dest)
  local kind, target, me = own(dest, "link")
  if not kind then return nil, target end
  if kind == "remote" then
    me.remote_watch = true
    local _, err = remote_op("watch", {watcher = me.pid, target = target, mode = "link"})
    if err then return nil, err end
    return true
  end
  add_link(me, target)
  return true
end

function H.unlink(dest)
  local me = K.current()
  local kind, target = resolve(dest)
  if kind == "local" then
    if target.links then target.links[me] = nil end
    if me.links then me.links[target] = nil end
    K.purge(me, is_exit_from(target.pid, LINK_DOWN))
  elseif kind == "remote" then
    remote_op("unwatch", {watcher = me.pid, target = target, mode = "link"})
    K.purge(me, is_exit_from(target, LINK_DOWN))
  elseif target:kind() == "Invalid" then
    return nil, target
  elseif type(dest) == "string" and byte(dest, 1) == 123 then
    -- the peer already ended: drop its LINK_DOWN if it is still queued
    K.purge(me, is_exit_from(dest, LINK_DOWN))
  end
  return true
end

-------------------------------------------------------------------------------
-- Terminate and cancel
-------------------------------------------------------------------------------

function H.terminate(dest)
  local kind, target = resolve(dest)
  if not kind then return nil, target end
  if kind == "remote" then
    local _, err = remote_op("terminate", {target = target, by = K.current() and K.current().pid})
    if err then return nil, err end
    return true
  end
  K.kill(target, Canceled("terminated"))
  return true
end

-- deadline_ns: nil or nanoseconds from now.
function H.cancel(dest, reason, deadline_ns)
  local kind, target = resolve(dest)
  if not kind then return nil, target end
  local me = K.current()
  local from = me and me.pid or SYSTEM
  if kind == "remote" then
    local _, err = remote_op("cancel", {target = target, from = from, reason = reason,
                                        deadline_ns = deadline_ns})
    if err then return nil, err end
    return true
  end
  local now = py.now()
  local deadline
  if deadline_ns then   -- a deadline beyond the last representable instant is that instant
    deadline = rfc3339(deadline_ns > math.maxinteger - now and math.maxinteger or now + deadline_ns)
  end
  K.deliver(target, {kind = CANCEL, from = from, at = rfc3339(now), reason = reason or "",
                     deadline = deadline})
  if deadline_ns then
    local tok = K.request_cb(function()
      if target.status ~= "dead" then
        K.exit(target, {error = Canceled("cancel deadline exceeded")})
      end
    end)
    py.timer(tok, deadline_ns)
  end
  return true
end

-------------------------------------------------------------------------------
-- Names
-------------------------------------------------------------------------------

local valid_name = K.valid_name
H.valid_name = valid_name

function H.register(name, pid)
  if not valid_name(name) then return nil, Invalid("names must be non-empty strings without { } or |") end
  local target
  if pid == nil then
    target = K.current()
  else
    target = procs[pid]
    if not target then return nil, NotFound("process " .. tostring(pid) .. " is not alive") end
  end
  local holder = names[name]
  if holder == target then return true end
  if holder then return nil, new_error("AlreadyExists", "name \"" .. name .. "\" is taken by " .. holder.pid, false) end
  names[name] = target
  local ns = target.names
  if not ns then ns = {}; target.names = ns end
  ns[#ns + 1] = name
  return true
end

function H.lookup(name)
  local p = names[name]
  if p then return p.pid end
  return nil, NotFound("no process is registered as \"" .. tostring(name) .. "\"")
end

function H.unregister(name)
  local p = names[name]
  if not p then return false end
  names[name] = nil
  local ns = p.names
  for i = #ns, 1, -1 do
    if ns[i] == name then table.remove(ns, i) end
  end
  return true
end

-------------------------------------------------------------------------------
-- Spawning
-------------------------------------------------------------------------------
-- spec = {entry, host, args (packed raw values), name, monitor, link,
--         messages = {{topic, vals}, ...}, ctx, options}

local function deliver_startup(proc, messages, from)
  if not messages then return true end
  for i = 1, #messages do
    local m = messages[i]
    local c, err = copy_values(m[2], "startup message")
    if not c then return nil, err end
    -- the spawner never waits for room: "block" refuses like "fail"
    local ok, oerr = K.offer(proc, K.new_message(m[1], from, data_of(c)), false)
    if not ok then return nil, oerr end
  end
  return true
end

-- Returns proc (new or named existing), or nil, err. `me` may be nil (Python).
local function spawn_local(spec, me)
  local host = spec.host
  local h = hosts[host]
  if host == FUNCTIONS or host == PYTHON then
    return nil, Invalid("nothing can be spawned on " .. host)
  end
  if not h then return nil, NotFound("host " .. tostring(host) .. " does not exist") end
  local def = K.entries[spec.entry]
  if not def then return nil, NotFound("entry " .. tostring(spec.entry) .. " does not exist") end
  if def.kind ~= "process.lua" and def.kind ~= "workflow.lua" then
    return nil, Invalid("entry " .. spec.entry .. " is a " .. def.kind ..
                        "; spawn needs a process.lua or workflow.lua (call functions with funcs.call)")
  end
  if not h.running then return nil, Unavailable("host " .. host .. " is not running") end
  local from = me and me.pid
  local name = spec.name
  if name then
    if not valid_name(name) then return nil, Invalid("names must be non-empty strings without { } or |") end
    local existing = names[name]
    if existing then
      -- spawn or signal: the named process gets the startup messages
      local ok, err = deliver_startup(existing, spec.messages, from)
      if not ok then return nil, err end
      if me and spec.link and existing ~= me then add_link(me, existing) end
      if me and spec.monitor and existing ~= me then add_monitor(me, existing) end
      return existing
    end
  end
  if h.max > 0 and h.count >= h.max then
    return nil, Unavailable("host " .. host .. " reached its max_processes limit (" .. h.max .. ")")
  end
  local args, err = copy_values(spec.args, "cannot pass argument")
  if not args then return nil, err end
  -- a spawn option replaces the entry's mailbox setting as a whole
  local mailbox = def.mailbox
  local opt = spec.options and spec.options.mailbox
  if opt ~= nil then
    local why
    mailbox, why = K.mailbox_config(opt, "spawn option mailbox")
    if not mailbox then return nil, Invalid(why) end
  end
  local pid = new_pid(host)
  local proc = K.new_process(pid, spec.entry, host, args, spec.ctx)
  if mailbox then K.set_mailbox(proc, mailbox) end
  procs[pid] = proc
  h.count = h.count + 1
  if name then
    names[name] = proc
    proc.names = {name}
  end
  if me then
    if spec.link then add_link(me, proc) end
    if spec.monitor then add_monitor(me, proc) end
  end
  if trace then trace("spawn", pid, spec.entry, host, from) end
  local ok, merr = deliver_startup(proc, spec.messages, from)
  if not ok then
    K.exit(proc, {error = merr})
    return nil, merr
  end
  return proc
end

local function remote_spec(spec)
  local me = K.current()
  local args = {}
  for i = 1, spec.args.n do args[i] = spec.args[i] end
  local messages
  if spec.messages then
    messages = {}
    for i, m in ipairs(spec.messages) do
      local vals = {}
      for j = 1, m[2].n do vals[j] = m[2][j] end
      messages[i] = {topic = m[1], values = vals, n = m[2].n}
    end
  end
  return {entry = spec.entry, host = spec.host, args = args, n = spec.args.n, name = spec.name,
          messages = messages, ctx = spec.ctx, options = spec.options, monitor = spec.monitor,
          link = spec.link, from = me and me.pid}
end

function H.spawn(spec)
  if remote[spec.host] then
    local me = K.current()
    if me and (spec.monitor or spec.link) then me.remote_watch = true end
    return remote_op("spawn", remote_spec(spec))
  end
  local proc, err = spawn_local(spec, K.current())
  if not proc then return nil, err end
  return proc.pid
end

-- Waits for `proc` to end and returns its result as value or nil, err.
local function await_result(me, proc)
  if proc.status == "dead" then
    local r = copy_result(proc.result)
    if r.error then return nil, r.error end
    return r.value
  end
  local tok, _, rec = K.request(me)
  local w = proc.waiters
  if not w then w = {}; proc.waiters = w end
  w[#w + 1] = tok
  local r = K.recv(rec)
  if r.error then return nil, r.error end
  return r.value
end

function H.exec(spec)
  if remote[spec.host] then
    spec.monitor, spec.link = false, false
    return remote_op("exec", remote_spec(spec))
  end
  local me = K.current()
  spec.monitor, spec.link = false, false
  local proc, err = spawn_local(spec, me)
  if not proc then return nil, err end
  return await_result(me, proc)
end

-------------------------------------------------------------------------------
-- Function calls (frames)
-------------------------------------------------------------------------------

local function merge_ctx(base, overlay)
  if not overlay or next(overlay) == nil then return base end
  local out = {}
  if base then for k, v in pairs(base) do out[k] = v end end
  for k, v in pairs(overlay) do out[k] = v end
  return out
end
H.merge_ctx = merge_ctx

-- Starts a frame for function entry `target`; returns proc or nil, err.
local function start_frame(target, args, ctx)
  local def = K.entries[target]
  if not def then return nil, NotFound("function " .. tostring(target) .. " does not exist") end
  if def.kind ~= "function.lua" then
    return nil, Invalid(target .. " is a " .. def.kind .. ", not a function.lua")
  end
  local pid = new_pid(FUNCTIONS)
  local frame = K.new_process(pid, target, FUNCTIONS, args, ctx)
  procs[pid] = frame
  return frame
end

-- options: {timeout_ns = n}; overlay: context values for the callee.
function H.call(target, vals, options, overlay)
  local me = K.current()
  local args, err = copy_values(vals, "cannot pass argument")
  if not args then return nil, err end
  local ctx = merge_ctx(me.ctx, overlay)
  if ctx ~= me.ctx and ctx then ctx = copy(ctx) end
  local frame, ferr = start_frame(target, args, ctx)
  if not frame then return nil, ferr end
  local frames = me.frames
  if not frames then frames = {}; me.frames = frames end
  frames[frame] = true
  local tok, robj, rec = K.request(me)
  frame.waiters = {tok}
  local r
  local timeout = options and options.timeout_ns
  if timeout then
    local tobj = H.timer(timeout, function() return true end)
    local sel = K.select({robj:case_receive(), tobj:case_receive()})
    if sel.channel ~= robj then
      frames[frame] = nil
      K.exit(frame, {error = Canceled("call timed out")})
      return nil, new_error("Timeout", "call to " .. target .. " timed out", false)
    end
    r = sel.value
  else
    r = K.recv(rec)
  end
  frames[frame] = nil
  if r.error then return nil, r.error end
  return r.value
end

-------------------------------------------------------------------------------
-- Time, randomness, logging
-------------------------------------------------------------------------------

function H.sleep(ns)
  if ns <= 0 then return end
  local me = K.current()
  local tok, _, rec = K.request(me)
  py.timer(tok, ns)
  K.recv(rec)
end

function H.timer(ns, map)
  local me = K.current()
  local tok, obj = K.request(me, map)
  if ns <= 0 then
    K.resolve(tok, py.now())
  else
    py.timer(tok, ns)
  end
  return obj
end

function H.random_bytes(n) return py.random(n) end
function H.entropy(n) return py.random(n) end

function H.log(level, message, fields)
  local me = K.current()
  local fbytes = fields and codec.encode(fields) or nil
  py.log(level, me and me.pid or "", me and me.entry or "", tostring(message), fbytes)
end

-------------------------------------------------------------------------------
-- The workflow module outside workflows (docs/reference/lua-modules.md, "workflow")
-------------------------------------------------------------------------------

function H.workflow_info() return nil end
function H.version(_, _, max) return max end
function H.history_length() return 0 end
function H.history_size() return 0 end
function H.attrs() return nil, Invalid("workflow.attrs is only available inside a workflow") end
function H.workflow_exec() return nil, Invalid("workflow.exec is only available inside a workflow") end

-------------------------------------------------------------------------------
-- Entry points for Python (the embedding API, the supervisor and other hosts).
-- They run between steps (no current process); failures return
-- false, kind, message[, retryable[, encoded details]] so Python can raise the matching
-- exception with everything the error object carries.
-------------------------------------------------------------------------------

local function fail(err)
  local kind, message, retryable, details = K.error_fields(err)
  local encoded
  if details ~= nil then
    local ok, bytes = pcall(codec.encode, details)
    if ok then encoded = bytes end
  end
  return false, kind, message, retryable, encoded
end

local function decode_args(bytes)
  if not bytes then return {n = 0} end
  local t = codec.decode(bytes)
  t.n = #t
  return t
end

-- Spawn from Python. opts: encoded {name, messages = {{topic, {values}}}, ctx, from, watch}
function H.ext_spawn(entry, host, args_bytes, opts_bytes, watch_id)
  local opts = opts_bytes and codec.decode(opts_bytes) or {}
  local messages
  if opts.messages then
    messages = {}
    for i, m in ipairs(opts.messages) do
      local vals = m[2] or {}
      vals.n = #vals
      messages[i] = {m[1], vals}
    end
  end
  local spec = {entry = entry, host = host, args = decode_args(args_bytes), name = opts.name,
                messages = messages, ctx = opts.ctx, options = opts.options}
  if remote[host] then return false, "Invalid", "use the remote host API for " .. host end
  local proc, err = spawn_local(spec, nil)
  if not proc then return fail(err) end
  if watch_id then
    local w = proc.ext_watch
    if not w then w = {}; proc.ext_watch = w end
    w[#w + 1] = watch_id
  end
  return true, proc.pid
end

function H.ext_call(target, args_bytes, ctx_bytes, watch_id)
  local ctx = ctx_bytes and codec.decode(ctx_bytes) or nil
  local frame, err = start_frame(target, decode_args(args_bytes), ctx)
  if not frame then return fail(err) end
  frame.ext_watch = {watch_id}
  return true, frame.pid
end

function H.ext_watch(pid, watch_id)
  local p = procs[pid]
  if not p then return fail(NotFound("process " .. pid .. " is not alive")) end
  local w = p.ext_watch
  if not w then w = {}; p.ext_watch = w end
  w[#w + 1] = watch_id
  return true
end

function H.ext_unwatch(pid, watch_id)
  local p = procs[pid]
  if p and p.ext_watch then
    for i = #p.ext_watch, 1, -1 do
      if p.ext_watch[i] == watch_id then table.remove(p.ext_watch, i) end
    end
  end
  return true
end

-- values_bytes: encoded array of values. from: sender PID or nil.
function H.ext_send(dest, topic, from, values_bytes)
  local kind, target = resolve(dest)
  if not kind then return fail(target) end
  if kind == "remote" then return false, "Invalid", "remote destination" end
  local vals = decode_args(values_bytes)
  -- Python callers and other hosts cannot wait inside Lua: "block" refuses like "fail"
  local ok, err = K.offer(target, K.new_message(topic, from, data_of(vals)), false)
  if not ok then return fail(err) end
  return true
end

-- Queued / dropped / blocked counts of a bounded mailbox (encoded), or nil.
function H.ext_mailbox_stats(pid)
  local p = procs[pid]
  local stats = p and K.mailbox_stats(p)
  return stats and codec.encode(stats) or nil
end

-- Delivers an event table (encoded) to a native process, for other hosts.
function H.ext_event(pid, event_bytes)
  local p = procs[pid]
  if not p then return false end
  K.deliver(p, codec.decode(event_bytes))
  return true
end

function H.ext_terminate(dest)
  local kind, target = resolve(dest)
  if not kind then return fail(target) end
  K.exit(target, {error = Canceled("terminated")})
  return true
end

function H.ext_cancel(dest, reason, deadline_ns, from)
  local kind, target = resolve(dest)
  if not kind then return fail(target) end
  local now = py.now()
  K.deliver(target, {kind = CANCEL, from = from or SYSTEM, at = rfc3339(now), reason = reason or "",
                     deadline = deadline_ns and rfc3339(now + deadline_ns) or nil})
  if deadline_ns then
    local tok = K.request_cb(function()
      if target.status ~= "dead" then K.exit(target, {error = Canceled("cancel deadline exceeded")}) end
    end)
    py.timer(tok, deadline_ns)
  end
  return true
end

-- Ends a process because its host stopped.
function H.ext_host_stopped(pid)
  local p = procs[pid]
  if p then K.exit(p, {error = Canceled("host stopped")}) end
  return true
end

-- A Python-side mailbox: a process record without Lua code whose deliveries
-- go to py.mailbox_put(id, kind, topic, from, data_bytes).
function H.ext_mailbox(id)
  local pid = new_pid(PYTHON)
  local proc = K.new_external(pid, "orrery:python", PYTHON, function(_, item)
    if K.is_message(item) then
      local topic, from, data = K.message_fields(item)
      local bytes = codec.encode(data) or codec.encode(nil)
      py.mailbox_put(id, "message", topic, from, bytes)
    else
      py.mailbox_put(id, "event", item.kind, item.from, codec.encode(item))
    end
  end)
  proc.external_id = id
  procs[pid] = proc
  return pid
end

function H.ext_close_mailbox(pid)
  local p = procs[pid]
  if p then
    p.external_id = nil
    K.exit(p, {value = nil})
  end
  return true
end

-- Monitor by a Python mailbox (so its owner gets EXIT events). A PID of another
-- host (a workflow) answers true, "remote": Python then asks that host to watch it.
function H.ext_mailbox_monitor(mailbox_pid, target_pid)
  local me = procs[mailbox_pid]
  if not me then return false, "NotFound", "mailbox closed" end
  local kind, t = resolve(target_pid)
  if not kind then return false, t:kind(), t:message() end
  if kind == "remote" then
    me.remote_watch = true  -- its watchers are dropped when the mailbox closes
    return true, "remote"
  end
  add_monitor(me, t)
  return true
end

function H.ext_lookup(name)
  local p = names[name]
  return p and p.pid or nil
end

function H.ext_alive(pid) return procs[pid] ~= nil end

-------------------------------------------------------------------------------
-- Introspection for the observer (orrery ps / inspect). Read-only snapshots,
-- encoded, taken between steps.
-------------------------------------------------------------------------------

local function pids_of(set)
  local out = {}
  if set then for p in pairs(set) do out[#out + 1] = p.pid end end
  table.sort(out)
  return out
end

local function state_of(p)
  if p.exit_decided then return "exiting" end
  local s = p.status
  if s == "idle" then return p.queued and "runnable" or "waiting" end
  return s
end

local function describe(p, full)
  local names_of = {}
  if p.names then for i = 1, #p.names do names_of[i] = p.names[i] end end
  local r = {pid = p.pid, entry = p.entry, host = p.host, state = state_of(p),
             mailbox = K.mailbox_size(p), links = pids_of(p.links),
             monitors = pids_of(p.watching), monitored_by = pids_of(p.monitors),
             names = names_of}
  if full then
    local topics = {}
    if p.listens then for t in pairs(p.listens) do topics[#topics + 1] = t end end
    table.sort(topics)
    r.coroutines = p.threads
    r.inbox = p.inbox ~= nil
    r.events = p.events ~= nil
    r.listening = topics
    r.traps_links = p.trap_links and true or false
  end
  return r
end

-- Every live process, sorted by PID.
function H.ext_processes()
  local out = {}
  for _, p in pairs(procs) do out[#out + 1] = describe(p, false) end
  table.sort(out, function(a, b) return a.pid < b.pid end)
  return codec.encode(out)
end

-- One process (by PID or registered name), or nil when it is not alive here.
function H.ext_process_info(dest)
  local p = procs[dest] or names[dest]
  if not p then return nil end
  return codec.encode(describe(p, true))
end

return H
