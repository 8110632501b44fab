-- orrery kernel: processes, coroutines, channels, mailboxes, the step machine.
--
-- Trusted code. It runs with the real standard library of its Lua state and is
-- never visible to user code. The chunk is called with (codec_ctor, config) and
-- returns K. See docs/design.md for the contract modules and hosts rely on.
--
-- Invariants (hold between any two kernel calls):
--   * a process is in `live` iff its status is not "dead";
--   * a coroutine record is in at most one run queue, and only while runnable;
--   * `cur` is the process whose coroutine is executing, nil between steps;
--   * proc.ext_waits counts coroutines of proc blocked on a case whose channel
--     can be fed from outside the process (subscriptions, host requests); a
--     process with nothing runnable, nothing external to wait for and live
--     coroutines is deadlocked.

local codec_ctor, config = ...

local co_create, co_resume, co_yield, co_status, co_running =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.running
local sethook = debug.sethook
local setmetatable, type, next, error, tostring, rawget, rawset, pcall =
  setmetatable, type, next, error, tostring, rawget, rawset, pcall
-- Values raised or yielded by user code may carry metamethods (__eq, __tostring, ...); the
-- kernel runs on the state's main thread, outside any budget, so it compares them with
-- rawequal and never calls tostring on them (docs/sandbox.md, "Metamethods").
local rawequal = rawequal
local clock = os.clock
local unpack = table.unpack
local mtype = math.type
local byte = string.byte

local K = {}

local HOOK_COUNT = config.hook_count or 25000       -- instructions between budget checks
local BUDGET_TICKS = config.budget_ticks or 8000    -- checks per step before the step is killed
-- CPU seconds one step may use, whatever its instructions cost: some instructions do much
-- work in C (a concatenation of long strings, a lookup through a deep __index chain), so the
-- hook also reads the clock at each check (docs/sandbox.md, "Limits").
local STEP_SECONDS = config.step_seconds or 1.0

-- Unique values the scheduler recognises.
local SUSPEND = setmetatable({}, {__tostring = function() return "orrery.suspend" end})
local KILL = setmetatable({}, {__tostring = function() return "process killed" end})
K.SUSPEND, K.KILL = SUSPEND, KILL

local cur = nil               -- running process
local budget = BUDGET_TICKS   -- remaining budget checks in this step
local kthreads = setmetatable({}, {__mode = "k"})   -- coroutines the kernel drives -> record

-------------------------------------------------------------------------------
-- Error objects
-------------------------------------------------------------------------------

local rawmt = debug.getmetatable

-- Kernel objects keep their state under private table keys that user code
-- cannot name; `next`/`pairs` refuse kernel objects in the sandbox, so the keys
-- cannot be discovered either. Type checks compare raw metatables.
local ES, CS, XS = {}, {}, {}   -- error, channel, case state keys
local PV, PF = {}, {}          -- payload fields: value, not yet handed out

local ERR_MT = {__metatable = "error", __name = "error"}
local err_methods = {}
ERR_MT.__index = err_methods
ERR_MT.__tostring = function(e) return e[ES].message end
ERR_MT.__newindex = function() error(K.error("Invalid", "error objects are read-only", false), 2) end

local function estate(e, fn)
  local st = rawmt(e) == ERR_MT and rawget(e, ES)
  if not st then K.invalid("error:" .. fn .. " must be called on an error object", 3) end
  return st
end
function err_methods.kind(e) return estate(e, "kind").kind end
function err_methods.message(e) return estate(e, "message").message end
function err_methods.retryable(e) return estate(e, "retryable").retryable end
-- a copy: the error's own table stays as it was made, so nobody can put a value in it that
-- a receiver could not get (a function would turn a failure into a normal exit on the way)
function err_methods.details(e)
  local d = estate(e, "details").details
  if d == nil then return nil end
  return (K.copy(d))
end
function err_methods.stack(e) return estate(e, "stack").stack or "" end
function err_methods.cause(e) return estate(e, "cause").cause end

function K.error(kind, message, retryable, details, cause)
  return setmetatable({[ES] = {kind = kind, message = message, retryable = retryable,
                               details = details, cause = cause}}, ERR_MT)
end
local new_error = K.error

local function is_error(v) return rawmt(v) == ERR_MT end
K.is_error = is_error

function K.error_fields(e)
  local st = e[ES]
  return st.kind, st.message, st.retryable, st.details
end
function K.error_cause(e) return e[ES].cause end

function K.invalid(message, level)
  error(new_error("Invalid", message, false), (level or 1) + 1)
end

-- Turns anything raised or returned as an error into an error object.
-- Never calls user metamethods (a __tostring could raise or loop outside any
-- process's budget): non-string values are described by their type.
function K.to_error(x)
  if is_error(x) then return x end
  if rawequal(x, KILL) then return new_error("Internal", "process killed") end
  local t = type(x)
  if t == "string" then return new_error("Internal", x) end
  if t == "number" or t == "boolean" or t == "nil" then return new_error("Internal", tostring(x)) end
  return new_error("Internal", "(error object is a " .. t .. " value)")
end

K.ERR_MT = ERR_MT
K.PROTECTED_MTS = {}    -- filled below: raw metatables of kernel objects

-------------------------------------------------------------------------------
-- Payload objects and the codec
-------------------------------------------------------------------------------

local PAYLOAD_MT = {__metatable = "payload", __name = "payload"}
local MSG_MT = {__metatable = "message", __name = "message"}
local payload_methods = {}
PAYLOAD_MT.__index = payload_methods
PAYLOAD_MT.__newindex = function() error(new_error("Invalid", "payloads are read-only"), 2) end

local codec = codec_ctor({
  is_error = is_error,
  error_fields = K.error_fields,
  make_error = function(kind, message, retryable, details) return new_error(kind, message, retryable, details) end,
  unwrap = function(v)
    if rawmt(v) == PAYLOAD_MT then return true, v[PV] end
    return false
  end,
})
K.codec = codec
local copy = codec.copy

function K.copy(v)
  local c, why = copy(v)
  if why then return nil, new_error("Invalid", why, false) end
  return c
end

-- A payload holds a private copy; the first data() hands it out, later calls copy.
function K.new_payload(v, fresh)
  return setmetatable({[PV] = v, [PF] = fresh}, PAYLOAD_MT)
end
function K.is_payload(v) return rawmt(v) == PAYLOAD_MT end

function payload_methods.data(p)
  if rawmt(p) ~= PAYLOAD_MT then K.invalid("payload:data must be called on a payload", 2) end
  -- a fresh copy on every call: changing one result never shows in the next
  local c, why = copy(p[PV])
  if why then return nil, new_error("Invalid", why, false) end
  return c
end
function payload_methods.get_format() return "lua/any" end
function payload_methods.unmarshal(p) return payload_methods.data(p) end

-------------------------------------------------------------------------------
-- Messages
-------------------------------------------------------------------------------
-- A message: {_topic, _from, _data}; _data is the data form (one value, nil, or
-- an array of several values), already private to the receiver.

local msg_methods = {}
MSG_MT.__index = msg_methods
MSG_MT.__newindex = function() error(new_error("Invalid", "messages are read-only", false), 2) end

local MT, MF, MD, MP = {}, {}, {}, {}   -- message fields: topic, from, data, payload

local function mcheck(m, fn)
  if rawmt(m) ~= MSG_MT then K.invalid("message:" .. fn .. " must be called on a message", 3) end
end
function msg_methods.topic(m) mcheck(m, "topic"); return m[MT] end
function msg_methods.from(m) mcheck(m, "from"); return m[MF] end
function msg_methods.payload(m)
  mcheck(m, "payload")
  local p = m[MP]
  if not p then
    p = K.new_payload(m[MD], true)
    rawset(m, MP, p)
  end
  return p
end

function K.new_message(topic, from, data)
  return setmetatable({[MT] = topic, [MF] = from, [MD] = data}, MSG_MT)
end
function K.is_message(v) return rawmt(v) == MSG_MT end
function K.message_fields(m) return m[MT], m[MF], m[MD] end

-- The data form of a list of values (already copied).
function K.data_form(n, ...)
  if n == 0 then return nil end
  if n == 1 then return (...) end
  return {...}
end

-------------------------------------------------------------------------------
-- Run queues
-------------------------------------------------------------------------------

local procq, pqh, pqt = {}, 1, 0       -- processes with runnable coroutines

local function queue_proc(proc)
  if not proc.queued then
    proc.queued = true
    pqt = pqt + 1
    procq[pqt] = proc
  end
end

-- Makes coroutine record `cr` runnable; it will be resumed with (a, b).
local function wake(cr, a, b)
  local proc = cr.proc
  if proc.status == "dead" then return end
  if cr.ext then
    proc.ext_waits = proc.ext_waits - 1
    cr.ext = false
  end
  cr.a, cr.b = a, b
  local t = proc.rqt + 1
  proc.rqt = t
  proc.rq[t] = cr
  queue_proc(proc)
end
K.wake = wake

-------------------------------------------------------------------------------
-- Budget hook
-------------------------------------------------------------------------------

-- os.clock() at the first budget check of the running step; read lazily, so a step that
-- ends before its first check (almost every step) costs no clock read.
local step_started = false

local function budget_hook()
  budget = budget - 1
  local now = clock()
  if not step_started then step_started = now end
  if budget <= 0 or now - step_started > STEP_SECONDS then
    if cur then cur.killed = cur.killed or "budget" end
    error(KILL, 0)
  end
  if cur and cur.killed then error(KILL, 0) end
end
function K.reset_budget()   -- the step machine below does the same inline (hot path)
  budget = BUDGET_TICKS
  step_started = false
end

-- Charges n instructions of work done outside the VM (a C pattern match) to
-- the running step's budget. Outside a step or a loading check it does nothing.
local debt = 0
function K.charge(n)
  if not (cur or K.loading) then return end
  debt = debt + n
  if debt >= HOOK_COUNT then
    local ticks = debt // HOOK_COUNT
    debt = debt - ticks * HOOK_COUNT
    budget = budget - ticks
    if budget <= 0 then
      if cur then cur.killed = cur.killed or "budget" end
      error(KILL, 0)
    end
  end
end

-------------------------------------------------------------------------------
-- Memory limit
-------------------------------------------------------------------------------
-- The state may have a byte limit (config.memory_limit, 0 = none). When an
-- allocation fails Lua raises the string "not enough memory" in the running
-- coroutine. The process whose allocation failed ends with an Internal error
-- that it cannot catch (the sandbox's pcall re-raises it like the budget
-- kill). A reserve block, dropped before the kernel records that exit, leaves
-- the kernel room to work even when the state is full; the process's memory
-- is then collected and the reserve taken again.

local MEMERR = "not enough memory"
K.MEMERR = MEMERR
local MEMORY_LIMIT = config.memory_limit or 0
local RESERVE_BYTES = config.memory_reserve or 262144
local reserve = nil

local function take_reserve()
  if reserve == nil and MEMORY_LIMIT > 0 then
    local ok, block = pcall(string.rep, "\0", RESERVE_BYTES)
    if ok then reserve = block end
  end
end
take_reserve()

local function describe_limit()
  local mib = MEMORY_LIMIT / 1048576
  if mib >= 1 and mib == math.floor(mib) then return math.tointeger(mib) .. " MiB" end
  return MEMORY_LIMIT .. " bytes"
end

-- The error a process gets when the state ran out of memory while it ran.
function K.memory_error(entry)
  reserve = nil
  local limit = MEMORY_LIMIT > 0 and (" (the node's Lua memory limit of " .. describe_limit() .. " was reached)") or ""
  return new_error("Internal", tostring(entry) .. ": out of memory" .. limit, false)
end

-- Called after the process whose allocation failed has exited.
function K.memory_recovered()
  collectgarbage("collect")
  take_reserve()
end

function K.arm(thread)
  sethook(thread, budget_hook, "", HOOK_COUNT)
end

-------------------------------------------------------------------------------
-- Suspension
-------------------------------------------------------------------------------

-- Suspends the running kernel coroutine until something calls wake() on it.
-- Returns the two wake values. User coroutines forward this through resume.
local function suspend()
  return co_yield(SUSPEND)
end
K.suspend = suspend

local function current_cr()
  local th = co_running()
  local cr = kthreads[th]
  if cr then return cr end
  -- inside a user coroutine: the kernel record is that of the nearest kernel
  -- coroutine that resumed it; the sandbox keeps that link in `cur.active`.
  return cur and cur.active
end
K.current_cr = current_cr

K.loading = false
function K.current()
  if K.loading then error(new_error("Invalid", "operation not allowed while loading", false), 2) end
  return cur
end

-------------------------------------------------------------------------------
-- Channels
-------------------------------------------------------------------------------
-- ch = {size, buf, bh, bt, closed, rq, rh, rt, sq, sh, st, ext}
-- rq/sq hold *entries* {w = waiter, value = v (send)}. A waiter
-- w = {cr, done, select} is one blocked operation; a select enqueues one entry
-- per case, all pointing at the same waiter, so the first channel to complete
-- the waiter marks it done and the other entries are skipped when reached.

-- The object user code holds is {[CS] = ch}; `ch.obj` points back at it.

local CHAN_MT = {__metatable = "channel", __name = "channel"}
local chan = {}          -- methods on channel objects
CHAN_MT.__index = chan
CHAN_MT.__newindex = function() error(new_error("Invalid", "channels are read-only", false), 2) end

local INF = math.huge

-- Returns the channel object and its record.
function K.new_channel(size, ext)
  local ch = {size = size or 0, buf = {}, bh = 1, bt = 0, closed = false,
              rq = {}, rh = 1, rt = 0, sq = {}, sh = 1, st = 0, ext = ext or false}
  local obj = setmetatable({[CS] = ch}, CHAN_MT)
  ch.obj = obj
  return obj, ch
end
local new_channel = K.new_channel
local function is_channel(v) return rawmt(v) == CHAN_MT end
K.is_channel = is_channel
local function crec(obj, fn)
  local ch = rawmt(obj) == CHAN_MT and obj[CS]
  if not ch then K.invalid("channel:" .. fn .. " must be called on a channel", 3) end
  return ch
end

-- First live entry of the receive / send queue, dropping dead ones.
local function live_entry(q, h, t)
  while h <= t do
    local e = q[h]
    local w = e.w
    if not w.done and w.cr.proc.status ~= "dead" then return e, h end
    q[h] = nil
    h = h + 1
  end
  return nil, h
end
local function take_recv(ch)
  local e, h = live_entry(ch.rq, ch.rh, ch.rt)
  if e then ch.rq[h] = nil; h = h + 1 end
  ch.rh = h
  return e
end
local function take_send(ch)
  local e, h = live_entry(ch.sq, ch.sh, ch.st)
  if e then ch.sq[h] = nil; h = h + 1 end
  ch.sh = h
  return e
end

-- Completes a blocked operation.
local function complete(w, ch, value, ok)
  w.done = true
  if w.select then
    wake(w.cr, {channel = ch.obj, value = value, ok = ok})
  else
    wake(w.cr, value, ok)
  end
end

-- Puts a value into a channel from outside any coroutine (mailbox delivery,
-- host results). Subscription and request channels are unbounded / one-shot.
local function chan_put(ch, v)
  local e = take_recv(ch)
  if e then return complete(e.w, ch, v, true) end
  local t = ch.bt + 1
  ch.bt = t
  ch.buf[t] = v
end
K.chan_put = chan_put

-- Bounded mailboxes (section "Bounded mailboxes" below): a message counted
-- against a mailbox bound waits in a box; subscription channels of a bounded
-- process (ch.mb) unbox on receive.
local BOX_MT = {__metatable = "box"}
local consume_box   -- forward: box -> the value to hand out

-- Non-blocking receive: returns true, value, ok when it completed.
local function try_recv(ch)
  if ch.bt >= ch.bh then
    local h = ch.bh
    local v = ch.buf[h]
    ch.buf[h] = nil
    ch.bh = h + 1
    if ch.mb and rawmt(v) == BOX_MT then
      if not v.live then             -- dropped by drop_oldest: skip it
        ch.dead = ch.dead - 1
        return try_recv(ch)
      end
      v = consume_box(v)
    end
    local s = take_send(ch)          -- a blocked sender moves into the buffer
    if s then
      local t = ch.bt + 1
      ch.bt = t
      ch.buf[t] = s.value
      complete(s.w, ch, s.value, true)
    end
    return true, v, true
  end
  local s = take_send(ch)
  if s then
    complete(s.w, ch, s.value, true)
    return true, s.value, true
  end
  if ch.closed then return true, nil, false end
  return false
end

-- Non-blocking send: true when a receiver took the value or it was buffered.
local function try_send(ch, v)
  local e = take_recv(ch)
  if e then complete(e.w, ch, v, true); return true end
  if ch.bt - ch.bh + 1 < ch.size then
    local t = ch.bt + 1
    ch.bt = t
    ch.buf[t] = v
    return true
  end
  return false
end

local function enqueue_recv(ch, e) local t = ch.rt + 1; ch.rt = t; ch.rq[t] = e end
local function enqueue_send(ch, e) local t = ch.st + 1; ch.st = t; ch.sq[t] = e end

local function block(cr, ext)
  if ext then
    cr.ext = true
    cr.proc.ext_waits = cr.proc.ext_waits + 1
  end
  return suspend()
end

local function need_cr(what)
  local cr = current_cr()
  if not cr then K.invalid(what .. " can only be used inside a process", 3) end
  return cr
end

-- Blocking receive on a channel record.
local function recv(ch)
  local done, v, ok = try_recv(ch)
  if done then return v, ok end
  local cr = need_cr("channel:receive")
  local w = {cr = cr}
  w.w = w
  enqueue_recv(ch, w)
  return block(cr, ch.ext)
end
K.recv = recv

function chan.receive(obj) return recv(crec(obj, "receive")) end

function chan.send(obj, v)
  local ch = crec(obj, "send")
  if ch.closed then K.invalid("send on a closed channel", 2) end
  if try_send(ch, v) then return true end
  local cr = need_cr("channel:send")
  local w = {cr = cr, value = v}
  w.w = w
  enqueue_send(ch, w)
  local _, ok = block(cr, ch.ext)
  if ok ~= true then K.invalid("send on a closed channel", 2) end
  return true
end

local function close(ch)
  if ch.closed then return end
  ch.closed = true
  if ch.on_close then ch.on_close(ch) end
  local e = take_recv(ch)            -- waiting receivers imply an empty buffer
  while e do
    complete(e.w, ch, nil, false)
    e = take_recv(ch)
  end
  e = take_send(ch)
  while e do
    local w = e.w
    w.done = true
    if w.select then wake(w.cr, {channel = ch.obj, closed_send = true}) else wake(w.cr, nil, false) end
    e = take_send(ch)
  end
end
K.close = close
function chan.close(obj) close(crec(obj, "close")) end

local CASE_MT = {__metatable = "case", __name = "case"}
function chan.case_receive(obj)
  return setmetatable({[XS] = {ch = crec(obj, "case_receive"), send = false}}, CASE_MT)
end
function chan.case_send(obj, v)
  return setmetatable({[XS] = {ch = crec(obj, "case_send"), send = true, value = v}}, CASE_MT)
end

-- select: the first ready case in list order wins; when none is ready, the
-- first case to become ready wins.
function K.select(cases)
  if type(cases) ~= "table" then K.invalid("channel.select expects a table of cases", 2) end
  local n = #cases
  local default = rawget(cases, "default")
  if n == 0 and not default then K.invalid("channel.select needs at least one case", 2) end
  local cs = {}
  for i = 1, n do
    local c = cases[i]
    c = rawmt(c) == CASE_MT and c[XS]
    if not c then K.invalid("channel.select: case " .. i .. " is not a case", 2) end
    cs[i] = c
    local ch = c.ch
    if c.send then
      if ch.closed then K.invalid("send on a closed channel", 2) end
      if try_send(ch, c.value) then return {channel = ch.obj, value = c.value, ok = true} end
    else
      local done, v, ok = try_recv(ch)
      if done then return {channel = ch.obj, value = v, ok = ok} end
    end
  end
  if default then return {default = true, ok = true} end
  local cr = need_cr("channel.select")
  local w = {cr = cr, select = true}
  local ext = false
  for i = 1, n do
    local c = cs[i]
    if c.send then enqueue_send(c.ch, {w = w, value = c.value}) else enqueue_recv(c.ch, {w = w}) end
    if c.ch.ext then ext = true end
  end
  local r = block(cr, ext)
  if r.closed_send then K.invalid("send on a closed channel", 2) end
  return r
end

K.chan_methods = chan

-- Read-only proxies: what user code gets instead of a shared table.
local proxies = setmetatable({}, {__mode = "k"})   -- proxy -> real table
K.proxies = proxies
function K.readonly(real, name)
  local mt = {
    __index = real,
    __newindex = function(_, k)
      K.invalid("cannot modify " .. name .. " (field " .. tostring(k) .. "): shared tables are read-only", 2)
    end,
    __pairs = function() return next, real, nil end,
    __len = function() return #real end,
    __metatable = name,
  }
  local p = setmetatable({}, mt)
  proxies[p] = real
  K.PROTECTED_MTS[mt] = true
  return p
end

for _, mt in ipairs({ERR_MT, MSG_MT, PAYLOAD_MT, CHAN_MT, CASE_MT}) do K.PROTECTED_MTS[mt] = true end

-------------------------------------------------------------------------------
-- Host requests
-------------------------------------------------------------------------------
-- A request is something a host completes later: K.request returns a token and
-- a one-shot channel (fed from outside: counts as external); K.resolve(token,
-- ...) puts map(...) (or the first value) into it and closes it. A request may
-- carry a callback instead of a channel (host-internal timers).

local requests = {}
local next_token = 0

-- Returns token, channel object, channel record.
function K.request(proc, map)
  next_token = next_token + 1
  local token = next_token
  local obj, ch = new_channel(1, true)
  requests[token] = {proc = proc, ch = ch, map = map}
  proc.nreq = proc.nreq + 1
  return token, obj, ch
end

function K.request_cb(cb)
  next_token = next_token + 1
  requests[next_token] = {cb = cb}
  return next_token
end

local function resolve_request(req, a, b)
  if req.cb then req.cb(a, b); return true end
  local proc = req.proc
  proc.nreq = proc.nreq - 1
  if proc.status == "dead" then return false end
  local ch = req.ch
  if req.map then a = req.map(a, b) end
  chan_put(ch, a)
  close(ch)
  return true
end

-- Hosts call this between steps (timers, answers from Python); a failure there (out of
-- memory while mapping the answer) ends the waiting process instead of the caller.
function K.resolve(token, a, b)
  local req = requests[token]
  if not req then return false end
  requests[token] = nil
  local ok, r = pcall(resolve_request, req, a, b)
  if ok then return r end
  if cur then error(r, 0) end   -- inside a step: the running process gets the failure
  K.recover(req.proc, r)
  return false
end

function K.forget(token) requests[token] = nil end

-------------------------------------------------------------------------------
-- Processes
-------------------------------------------------------------------------------
-- proc = {pid, entry, host, ctx, status, rq, rqh, rqt, queued, main, ext_waits,
--         nreq, pending (undelivered mailbox items), inbox, events, listens,
--         listen_msg, trap_links, killed, active, ...host fields}

local live = {}       -- proc -> true
local nlive = 0
K.live = live
function K.count() return nlive end

local on_exit_hook = nil         -- host cleanup, set by the host ops
function K.set_exit_hook(fn) on_exit_hook = fn end

-- Entries: id -> {factory = fn(env, ...) -> chunk result, method, kind, modules, chunkname}
local entries = {}
K.entries = entries

function K.define_entry(id, def) entries[id] = def end

local make_env = nil     -- set by the sandbox: function(proc) -> env table
function K.set_env_factory(fn) make_env = fn end

-- Body of every main coroutine: instantiate the chunk in the process env, find
-- the method, run it.
local function main_body(proc, def, args)
  local env = make_env(proc, def)
  local ret = def.factory(env)
  local fn
  if type(ret) == "function" then
    fn = ret
  elseif type(ret) == "table" then
    fn = rawget(ret, def.method)
    if type(fn) ~= "function" then
      error(new_error("Invalid", def.id .. ": method \"" .. def.method .. "\" is not a function in " .. def.chunkname), 0)
    end
  else
    error(new_error("Invalid", def.id .. ": the chunk must return a function or a table"), 0)
  end
  return fn(unpack(args, 1, args.n))
end

local function new_cr(proc, fn)
  local th = co_create(fn)
  sethook(th, budget_hook, "", HOOK_COUNT)
  local cr = {co = th, proc = proc, ext = false}
  kthreads[th] = cr
  proc.threads = proc.threads + 1
  return cr
end

-- Creates a process for entry `id` (must be defined) and makes it runnable.
-- `args` is a packed table of already-copied values.
function K.new_process(pid, id, host, args, ctx)
  local def = entries[id]
  local proc = {pid = pid, entry = id, host = host, ctx = ctx, status = "starting",
                rq = {}, rqh = 1, rqt = 0, queued = false, threads = 0, ext_waits = 0,
                nreq = 0, trap_links = false}
  local cr = new_cr(proc, main_body)
  cr.first = {proc, def, args}
  proc.main = cr
  live[proc] = true
  nlive = nlive + 1
  local t = proc.rqt + 1
  proc.rqt = t
  proc.rq[t] = cr
  queue_proc(proc)
  return proc
end

-- coroutine.spawn: a new coroutine of the current process.
function K.spawn_coroutine(fn)
  local proc = cur
  if not proc then K.invalid("coroutine.spawn can only be used inside a process", 2) end
  local cr = new_cr(proc, fn)
  cr.first = {}
  local t = proc.rqt + 1
  proc.rqt = t
  proc.rq[t] = cr
  queue_proc(proc)
  return cr.co
end

function K.is_kernel_thread(th) return kthreads[th] ~= nil end

-------------------------------------------------------------------------------
-- Mailbox delivery (docs/reference/semantics.md, "Messages and ordering")
-------------------------------------------------------------------------------

local EXIT, LINK_DOWN, CANCEL = "pid.exit", "pid.link.down", "pid.cancel"
K.EXIT, K.LINK_DOWN, K.CANCEL = EXIT, LINK_DOWN, CANCEL

local fail_linked   -- forward

-- Puts a box into a subscription channel: handed out (and uncounted) when a
-- receiver waits, else buffered where drop_oldest can find it.
local function sub_put(ch, box)
  local e = take_recv(ch)
  if e then return complete(e.w, ch, consume_box(box), true) end
  box.where = ch
  local t = ch.bt + 1
  ch.bt = t
  ch.buf[t] = box
end

-- Tries to hand one mailbox item to a subscription. Events are plain tables
-- with a `kind` field; messages are message objects, or boxes holding one.
local function try_deliver(proc, item)
  local box
  if rawmt(item) == BOX_MT then box = item; item = box.m end
  if rawmt(item) == MSG_MT then
    local topic = item[MT]
    local listens = proc.listens
    local ch = listens and listens[topic]
    local v = item
    if ch then
      if not proc.listen_msg[topic] then v = item[MD] end
    else
      ch = proc.inbox
      if not ch then return false end
    end
    if box then box.v = v; sub_put(ch, box) else chan_put(ch, v) end
    return true
  end
  if proc.events then chan_put(proc.events, item); return true end
  return false
end

local function queue_pending(proc, item)
  local p = proc.pending
  if not p then p = {h = 1, t = 0}; proc.pending = p end
  local t = p.t + 1
  p.t = t
  p[t] = item
end

-- Delivers a message or event to a live process, without any mailbox bound
-- (events, and hosts that do not bound mailboxes). Returns false when dead.
function K.deliver(proc, item)
  if proc.status == "dead" then return false end
  if rawmt(item) == nil and item.kind == LINK_DOWN and not proc.trap_links then
    fail_linked(proc, item)
    return true
  end
  if proc.external then
    proc.external(proc, item)
    return true
  end
  if not try_deliver(proc, item) then queue_pending(proc, item) end
  return true
end

-- Moves pending items that a new subscription can take, in order.
local function flush_pending(proc)
  local p = proc.pending
  if not p then return end
  local keep = {h = 1, t = 0}
  for i = p.h, p.t do
    local item = p[i]
    if rawmt(item) == BOX_MT and not item.live then
      proc.pdead = proc.pdead - 1           -- dropped by drop_oldest
    elseif not try_deliver(proc, item) then
      keep.t = keep.t + 1
      keep[keep.t] = item
    end
  end
  proc.pending = keep.t > 0 and keep or nil
end

-------------------------------------------------------------------------------
-- Bounded mailboxes ([extended]; docs/mailboxes.md)
-------------------------------------------------------------------------------
-- proc.mb = {default = scope | nil, topics = {topic -> scope} | nil}
-- scope  = {cap, policy, n, dropped, waiters queue (wq, wh, wt),
--           order queue of boxes for drop_oldest (oq, oh, ot)}
--
-- Each message is counted against exactly one scope: its topic's when the
-- topic is listed, else the default one (none: unbounded). A counted message
-- waits in a box {m, sc, live, v, where} in proc.pending or in a subscription
-- buffer (where = that channel, false = pending) until it is handed out.
-- Invariants: sc.n = number of live boxes of sc; a block scope has waiters
-- only while it is full; proc.pdead / ch.dead count dead boxes (dropped by
-- drop_oldest) still sitting in pending / in ch's buffer.

local POLICIES = {block = true, drop_newest = true, drop_oldest = true, fail = true}
local POLICY_LIST = "block, drop_newest, drop_oldest or fail"

-- Checks one bound; returns {cap, policy} (either may be nil) or nil, message.
local function check_bound(t, path, is_topic)
  if type(t) ~= "table" then return nil, path .. " must be a table, got " .. type(t) end
  for k in next, t do
    if k ~= "capacity" and k ~= "overflow" and (is_topic or k ~= "topics") then
      return nil, path .. ": unknown field \"" .. tostring(k) .. "\" (known: capacity, overflow" ..
        (is_topic and ")" or ", topics)")
    end
  end
  local cap, policy = rawget(t, "capacity"), rawget(t, "overflow")
  if cap ~= nil and (mtype(cap) ~= "integer" or cap < 1) then
    return nil, path .. ".capacity must be an integer of at least 1, got " .. tostring(cap)
  end
  if policy ~= nil and not POLICIES[policy] then
    return nil, path .. ".overflow must be " .. POLICY_LIST .. ", got " .. tostring(policy)
  end
  if is_topic and cap == nil then return nil, path .. ".capacity is required" end
  return {cap = cap, policy = policy}
end

-- Validates a mailbox setting {capacity, overflow, topics = {t = {capacity, overflow}}}.
-- Returns the normalised config {default = {cap, policy}, topics = {t = {cap, policy}}}
-- or nil, message (the message names the field under `path`). A topic without
-- an overflow inherits the mailbox's; the mailbox's defaults to "block".
function K.mailbox_config(t, path)
  local top, why = check_bound(t, path, false)
  if not top then return nil, why end
  local policy = top.policy or "block"
  local cfg = {}
  if top.cap then cfg.default = {cap = top.cap, policy = policy} end
  local topics = rawget(t, "topics")
  if topics ~= nil then
    if type(topics) ~= "table" then return nil, path .. ".topics must be a table, got " .. type(topics) end
    cfg.topics = {}
    for topic, raw in next, topics do
      local tpath = path .. ".topics." .. tostring(topic)
      if type(topic) ~= "string" or topic == "" or byte(topic, 1) == 64 then
        return nil, tpath .. ": topics are non-empty strings not starting with @"
      end
      local b, terr = check_bound(raw, tpath, true)
      if not b then return nil, terr end
      cfg.topics[topic] = {cap = b.cap, policy = b.policy or policy}
    end
  end
  if not cfg.default and not (cfg.topics and next(cfg.topics)) then
    return nil, path .. " needs a capacity or topics (leave it out for an unbounded mailbox)"
  end
  return cfg
end

local function new_scope(b)
  return {cap = b.cap, policy = b.policy, n = 0, dropped = 0,
          wq = {}, wh = 1, wt = 0, oq = {}, oh = 1, ot = 0}
end

-- Bounds the mailbox of a new process; cfg as returned by K.mailbox_config.
function K.set_mailbox(proc, cfg)
  local mb = {}
  if cfg.default then mb.default = new_scope(cfg.default) end
  if cfg.topics then
    mb.topics = {}
    for topic, b in next, cfg.topics do mb.topics[topic] = new_scope(b) end
  end
  proc.mb = mb
  proc.pdead = 0
end

-- Copies a buffer or pending queue without its dead boxes; returns it and its length.
local function compact(q, h, t)
  local out, n = {}, 0
  for i = h, t do
    local v = q[i]
    if not (rawmt(v) == BOX_MT and not v.live) then n = n + 1; out[n] = v end
  end
  return out, n
end

-- Drops the oldest live message of a drop_oldest scope of proc.
local function evict(sc, proc)
  local oq, h = sc.oq, sc.oh
  while h <= sc.ot do
    local box = oq[h]
    oq[h] = nil
    h = h + 1
    if box.live then
      box.live, box.m, box.v = false, nil, nil
      sc.n = sc.n - 1
      sc.dropped = sc.dropped + 1
      local ch = box.where
      if ch then
        ch.dead = ch.dead + 1
        if ch.dead > 32 and ch.dead * 2 > ch.bt - ch.bh + 1 then
          ch.buf, ch.bt = compact(ch.buf, ch.bh, ch.bt)
          ch.bh, ch.dead = 1, 0
        end
      else
        proc.pdead = proc.pdead + 1
        local p = proc.pending
        if p and proc.pdead > 32 and proc.pdead * 2 > p.t - p.h + 1 then
          local q, n = compact(p, p.h, p.t)
          q.h, q.t = 1, n
          proc.pending = n > 0 and q or nil
          proc.pdead = 0
        end
      end
      break
    end
  end
  sc.oh = h
end

-- Counts msg against sc and delivers or queues it.
local function store(proc, sc, msg)
  local box = setmetatable({m = msg, sc = sc, live = true, v = nil, where = false}, BOX_MT)
  sc.n = sc.n + 1
  if not try_deliver(proc, box) then queue_pending(proc, box) end
  if box.live and sc.policy == "drop_oldest" then
    local t = sc.ot + 1
    sc.ot = t
    sc.oq[t] = box
    if t - sc.oh > 2 * sc.cap + 32 then       -- received boxes pile up behind a stuck one
      local q, n = compact(sc.oq, sc.oh, t)
      sc.oq, sc.oh, sc.ot = q, 1, n
    end
  end
end

-- Lets blocked senders of a block scope in, in arrival order, while there is room.
local function refill(sc)
  while sc.n < sc.cap and sc.wh <= sc.wt do
    local h = sc.wh
    local w = sc.wq[h]
    sc.wq[h] = nil
    sc.wh = h + 1
    if w.cr.proc.status ~= "dead" then
      store(w.target, sc, w.msg)
      wake(w.cr, true)
    end
  end
end

consume_box = function(box)
  local sc = box.sc
  box.live = false
  sc.n = sc.n - 1
  local v = box.v
  box.m, box.v = nil, nil
  if sc.policy == "drop_oldest" then
    local oq, h = sc.oq, sc.oh
    while h <= sc.ot and not oq[h].live do oq[h] = nil; h = h + 1 end
    sc.oh = h
  elseif sc.wh <= sc.wt then
    refill(sc)
  end
  return v
end

-- A closed subscription no longer counts: its buffered messages stay
-- receivable from the closed channel, outside the bound.
local function release_channel(ch)
  local out, n = {}, 0
  local buf = ch.buf
  for i = ch.bh, ch.bt do
    local v = buf[i]
    if rawmt(v) == BOX_MT then
      if v.live then n = n + 1; out[n] = consume_box(v) end
    else
      n = n + 1; out[n] = v
    end
  end
  ch.buf, ch.bh, ch.bt, ch.dead, ch.mb = out, 1, n, 0, nil
end

-- Whether a message of `topic` would be handed to a waiting receiver at once.
local function receiver_waiting(proc, topic)
  local ch = proc.listens and proc.listens[topic] or proc.inbox
  if not ch or ch.bt >= ch.bh then return false end
  return (live_entry(ch.rq, ch.rh, ch.rt)) ~= nil
end

local function full_error(proc, sc, topic, why)
  local scope = proc.mb.default == sc and "" or " for topic \"" .. topic .. "\""
  return new_error("RateLimited", "the mailbox of " .. proc.pid .. " is full" .. scope .. " (" ..
    sc.cap .. " messages queued)" .. why, true, {pid = proc.pid, topic = topic, capacity = sc.cap})
end

-- Sends message `msg` to live process `proc` under its mailbox bound. Returns
-- true when the message was accepted (queued, or dropped by a drop policy) or
-- nil, err: RateLimited (policy fail, or block when the sender cannot wait),
-- NotFound (the receiver ended while the sender was blocked). `can_block`:
-- the sender is a process coroutine that may be suspended.
function K.offer(proc, msg, can_block)
  local mb = proc.mb
  local topic = msg[MT]
  local sc = mb and (mb.topics and mb.topics[topic] or mb.default)
  if not sc or proc.status == "dead" or receiver_waiting(proc, topic) then
    K.deliver(proc, msg)
    return true
  end
  if sc.n >= sc.cap or sc.wh <= sc.wt then
    local policy = sc.policy
    if policy == "drop_newest" then
      sc.dropped = sc.dropped + 1
      return true
    elseif policy == "drop_oldest" then
      evict(sc, proc)
    elseif policy == "block" and can_block and current_cr() then
      local cr = current_cr()
      local t = sc.wt + 1
      sc.wt = t
      sc.wq[t] = {cr = cr, target = proc, msg = msg}
      if block(cr, true) then return true end
      return nil, new_error("NotFound", "process " .. proc.pid ..
                            " ended while the sender waited for room in its mailbox")
    else
      return nil, full_error(proc, sc, topic, policy == "block" and "; this sender cannot wait" or "")
    end
  end
  store(proc, sc, msg)
  return true
end

-- Releases the senders blocked on a process that ended (their sends fail).
local function release_senders(proc)
  local function each(sc)
    for i = sc.wh, sc.wt do
      local w = sc.wq[i]
      if w.cr.proc.status ~= "dead" then wake(w.cr, false) end
    end
    sc.wq, sc.wh, sc.wt = {}, 1, 0
  end
  local mb = proc.mb
  if mb.default then each(mb.default) end
  if mb.topics then for _, sc in next, mb.topics do each(sc) end end
end

-- Per scope: {queued, dropped, capacity, blocked} as
-- {default = stats | nil, topics = {topic -> stats}}; nil when unbounded.
function K.mailbox_stats(proc)
  local mb = proc.mb
  if not mb then return nil end
  local function one(sc)
    return {queued = sc.n, dropped = sc.dropped, capacity = sc.cap, blocked = sc.wt - sc.wh + 1}
  end
  local out = {topics = {}}
  if mb.default then out.default = one(mb.default) end
  if mb.topics then for t, sc in next, mb.topics do out.topics[t] = one(sc) end end
  return out
end

-- A subscription channel of proc; a bounded process's unbox on receive.
local function sub_channel(proc)
  local _, ch = new_channel(INF, true)
  if proc.mb then ch.mb, ch.dead = true, 0 end
  return ch
end

-- Subscriptions return channel objects; proc.inbox / events / listens hold records.
function K.inbox(proc)
  local ch = proc.inbox
  if not ch then
    ch = sub_channel(proc)
    ch.on_close = function()
      if proc.inbox == ch then proc.inbox = nil end
      if ch.mb then release_channel(ch) end
    end
    proc.inbox = ch
    flush_pending(proc)
  end
  return ch.obj
end

function K.events(proc)
  local ch = proc.events
  if not ch then
    local _
    _, ch = new_channel(INF, true)
    ch.on_close = function() if proc.events == ch then proc.events = nil end end
    proc.events = ch
    flush_pending(proc)
  end
  return ch.obj
end

-- Returns the channel, or nil, err when the mode differs from an existing one.
function K.listen(proc, topic, as_message)
  local listens = proc.listens
  if not listens then
    listens = {}
    proc.listens = listens
    proc.listen_msg = {}
  end
  local ch = listens[topic]
  if ch then
    if proc.listen_msg[topic] ~= as_message then
      return nil, new_error("Invalid", "topic \"" .. topic .. "\" is already listened to in another mode", false)
    end
    return ch.obj
  end
  ch = sub_channel(proc)
  ch.on_close = function()
    if listens[topic] == ch then listens[topic] = nil end
    if ch.mb then release_channel(ch) end
  end
  listens[topic] = ch
  proc.listen_msg[topic] = as_message
  flush_pending(proc)
  return ch.obj
end

-- Removes queued, unreceived items matching pred from the mailbox and from the
-- events channel buffer (unmonitor / unlink).
function K.purge(proc, pred)
  local p = proc.pending
  if p then
    local keep = {h = 1, t = 0}
    for i = p.h, p.t do
      if not pred(p[i]) then keep.t = keep.t + 1; keep[keep.t] = p[i] end
    end
    proc.pending = keep.t > 0 and keep or nil
  end
  local ev = proc.events
  if ev then
    local nb, t = {}, 0
    for i = ev.bh, ev.bt do
      local item = ev.buf[i]
      if not pred(item) then t = t + 1; nb[t] = item end
    end
    ev.buf, ev.bh, ev.bt = nb, 1, t
  end
end

-------------------------------------------------------------------------------
-- Exit
-------------------------------------------------------------------------------

local exitq, eqh, eqt = {}, 1, 0     -- processes whose exit is decided but not processed

local function do_exit(proc, result)
  if proc.status == "dead" then return end
  proc.status = "dead"
  proc.result = result
  live[proc] = nil
  nlive = nlive - 1
  -- drop coroutines and mailbox (docs/reference/semantics.md, "Exit steps" steps 1 and 4)
  proc.rq, proc.rqh, proc.rqt = {}, 1, 0
  proc.pending, proc.inbox, proc.events, proc.listens = nil, nil, nil, nil
  proc.main = nil
  if proc.mb then release_senders(proc) end
  if on_exit_hook then on_exit_hook(proc, result) end
end

-- Decides the exit of `proc` with result {value=, error=}. Exits triggered
-- while processing another exit (link cascades) are queued, so cascades never
-- recurse.
local exiting = false
local function queue_exit(proc, result)
  proc.exit_decided = true
  eqt = eqt + 1
  exitq[eqt] = {proc, result}
end
local function drain_exits()
  exiting = true
  while eqh <= eqt do
    local e = exitq[eqh]
    exitq[eqh] = nil
    eqh = eqh + 1
    do_exit(e[1], e[2])
  end
  exiting = false
end
function K.exit(proc, result)
  if proc.status == "dead" or proc.exit_decided then return end
  queue_exit(proc, result)
  if not exiting then drain_exits() end
end

-- Called when kernel work outside any process coroutine raised (the state ran out of memory
-- while an exit hook copied a result, or a bug): the node goes on. `proc`, when given, is the
-- process being stepped; it ends with the error. Exits still queued are processed.
local function recover(proc, e)
  cur = nil
  exiting = false
  local memory = rawequal(e, MEMERR)
  if proc and proc.status ~= "dead" and not proc.exit_decided then
    local err = memory and K.memory_error(proc.entry)
      or new_error("Internal", proc.entry .. ": " .. (type(e) == "string" and e or "kernel failure"))
    queue_exit(proc, {error = err})
  elseif memory then
    reserve = nil
  end
  local ok, again = pcall(drain_exits)
  if not ok then
    exiting = false
    error(again, 0)   -- the host's guard logs it (docs/sandbox.md, "Limits")
  end
  if memory then K.memory_recovered() end
end
K.recover = recover

fail_linked = function(proc, ev)
  local cause = ev.result and ev.result.error
  local msg = is_error(cause) and cause[ES].message or "unknown error"
  local kind = is_error(cause) and cause[ES].kind or "Unknown"
  K.exit(proc, {error = new_error("Internal", "linked process " .. ev.from .. " failed: " .. msg, nil,
                                  {linked_pid = ev.from, linked_kind = kind})})
end

-- Ends `proc` with an error at once. When proc is the running process the
-- current coroutine is unwound with the KILL sentinel.
function K.kill(proc, err)
  K.exit(proc, {error = err})
  if proc == cur then
    proc.killed = proc.killed or "exit"
    error(KILL, 0)
  end
end

-------------------------------------------------------------------------------
-- Result of a finished main coroutine (docs/reference/lua-modules.md, "Conventions")
-------------------------------------------------------------------------------

-- The copy runs outside the process (on the main thread), so a result too large for the
-- memory left must not raise there: it ends the process with the out-of-memory error.
local function outcome(proc, v, e)
  if e ~= nil then
    if is_error(e) then return {error = e} end
    if type(e) == "string" then return {error = new_error("Internal", e)} end
  end
  local ok, c, why = pcall(copy, v)
  if not ok then return {error = K.memory_error(proc.entry)}, true end
  if why then
    return {error = new_error("Invalid", "the process result cannot be sent: " .. why, false)}
  end
  return {value = c}
end

local function with_location(proc, err)
  -- runtime errors raised as strings already carry "file:line:"; error objects
  -- are kept as they are.
  return K.to_error(err)
end

-------------------------------------------------------------------------------
-- The step machine
-------------------------------------------------------------------------------

-- Runs the runnable coroutines of one process until none is runnable.
-- Returns nothing; the process may have exited.
local function step(proc)
  cur = proc
  proc.status = "running"
  while proc.rqh <= proc.rqt do
    local h = proc.rqh
    local cr = proc.rq[h]
    proc.rq[h] = nil
    proc.rqh = h + 1
    budget, step_started = BUDGET_TICKS, false   -- K.reset_budget, inline
    local ok, r1, r2
    local first = cr.first
    if first then
      cr.first = nil
      ok, r1, r2 = co_resume(cr.co, unpack(first, 1, 3))
    else
      local a, b = cr.a, cr.b
      cr.a, cr.b = nil, nil
      ok, r1, r2 = co_resume(cr.co, a, b)
    end
    if proc.status == "dead" then break end
    if not ok then
      local err
      local memory = rawequal(r1, MEMERR) or (rawequal(r1, KILL) and proc.killed == "memory")
      if memory then
        err = K.memory_error(proc.entry)
      elseif rawequal(r1, KILL) then
        if proc.killed == "budget" then
          err = new_error("Internal", proc.entry .. ": step budget exceeded (a loop that never waits?)")
        else
          err = new_error("Internal", "process killed")
        end
      else
        err = with_location(proc, r1)
      end
      K.exit(proc, {error = err})
      if memory then
        cr = nil -- luacheck: ignore 311 (drop the last reference to the failed coroutine first)
        K.memory_recovered()
      end
      break
    elseif co_status(cr.co) == "dead" then
      kthreads[cr.co] = nil
      proc.threads = proc.threads - 1
      if cr == proc.main then
        r1, r2 = outcome(proc, r1, r2)
        K.exit(proc, r1)
        if r2 then K.memory_recovered() end
        break
      end
    elseif not rawequal(r1, SUSPEND) then
      K.exit(proc, {error = new_error("Internal", "attempt to yield from outside a coroutine")})
      break
    end
  end
  cur = nil
  if proc.status ~= "dead" then
    proc.status = "idle"
    if proc.ext_waits == 0 and proc.nreq == 0 and proc.rqh > proc.rqt and not proc.external then
      K.exit(proc, {error = new_error("Internal", "deadlock: all coroutines are blocked")})
    end
  end
end

-- The step both hosts run: a failure of the kernel's own work in it (out of memory while the
-- exit hook copies a result) ends the process, never the node.
local function protected_step(proc)
  local ok, e = pcall(step, proc)
  if not ok then recover(proc, e) end
end
K.step = protected_step

-- Native scheduler: runs runnable processes, at most `max_steps` steps.
-- Returns true when more work is runnable.
function K.run(max_steps)
  local n = 0
  while pqh <= pqt and n < max_steps do
    local proc = procq[pqh]
    procq[pqh] = nil
    pqh = pqh + 1
    proc.queued = false
    if proc.status ~= "dead" then
      protected_step(proc)
      n = n + 1
    end
  end
  if pqh > pqt then pqh, pqt = 1, 0 end
  return pqh <= pqt
end

function K.runnable() return pqh <= pqt end

-- Splits "{node@host|id}" into node (or nil), host, id; nil when malformed
-- (docs/reference/semantics.md, "PIDs").
local find, sub = string.find, string.sub
function K.parse_pid(s)
  if byte(s, 1) ~= 123 or byte(s, -1) ~= 125 then return nil end
  local bar = find(s, "|", 2, true)
  if not bar then return nil end
  local left = sub(s, 2, bar - 1)
  local at = find(left, "@", 1, true)
  if at then return sub(left, 1, at - 1), sub(left, at + 1), sub(s, bar + 1, -2) end
  return nil, left, sub(s, bar + 1, -2)
end

-- Names (and workflow IDs) are non-empty strings without { } or |.
function K.valid_name(name)
  return type(name) == "string" and name ~= "" and not find(name, "[{}|]")
end

-- "file:line" of the innermost user-code frame on the running coroutine
-- (user chunks are named "@path"; trusted files "=name"), or nil.
local getinfo = debug.getinfo
function K.where()
  for level = 2, 40 do
    local info = getinfo(level, "Sl")
    if not info then return nil end
    local src = info.source
    if src and src:byte(1) == 64 and info.currentline and info.currentline > 0 then
      return src:sub(2) .. ":" .. info.currentline
    end
  end
  return nil
end

-- A process without Lua code whose deliveries call `deliver(proc, item)`
-- (Python mailboxes).
function K.new_external(pid, entry, host, deliver)
  local proc = {pid = pid, entry = entry, host = host, status = "idle", rq = {}, rqh = 1, rqt = 0,
                queued = false, threads = 0, ext_waits = 0, nreq = 0, trap_links = true,
                external = deliver}
  live[proc] = true
  nlive = nlive + 1
  return proc
end

-- Introspection (the observer): items waiting in a process's mailbox, i.e.
-- delivered but not yet received, whether unsubscribed (pending) or buffered
-- in its inbox, events or listen channels.
function K.mailbox_size(proc)
  local n = 0
  local p = proc.pending
  if p then n = n + p.t - p.h + 1 end
  local function buffered(ch) if ch then n = n + ch.bt - ch.bh + 1 end end
  buffered(proc.inbox)
  buffered(proc.events)
  if proc.listens then for _, ch in pairs(proc.listens) do buffered(ch) end end
  return n
end

return K
