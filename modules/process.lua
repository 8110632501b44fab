-- The `process` module (docs/reference/lua-modules.md, "process"). Host-agnostic: every operation
-- is an
-- H call; the module only validates arguments and builds start specs.

local K, H = ...
local type, select, pack, setmetatable, pairs, rawget, tostring =
  type, select, table.pack, setmetatable, pairs, rawget, tostring
local new_error, invalid = K.error, K.invalid

local M = {}

M.event = {EXIT = K.EXIT, LINK_DOWN = K.LINK_DOWN, CANCEL = K.CANCEL}

local function me(fn)
  local proc = K.current()
  if not proc then invalid("process." .. fn .. " can only be used inside a process", 3) end
  return proc
end

local function Invalid(msg) return new_error("Invalid", msg, false) end

-- Destinations: a PID or a registered name. Wrong types are programming errors.
local function check_dest(dest, fn)
  if dest == nil then return Invalid("process." .. fn .. ": missing destination") end
  if type(dest) ~= "string" then invalid("process." .. fn .. ": destination must be a string, got " .. type(dest), 3) end
  if dest == "" then return Invalid("process." .. fn .. ": empty destination") end
  return nil
end

local function check_topic(topic, fn)
  if topic == nil then return Invalid(fn .. ": missing topic") end
  if type(topic) ~= "string" then invalid(fn .. ": topic must be a string, got " .. type(topic), 3) end
  if topic == "" then return Invalid(fn .. ": empty topic") end
  if topic:byte(1) == 64 then return Invalid(fn .. ": topics starting with @ are reserved") end
  return nil
end

function M.pid() return me("pid").pid end
function M.id() return me("id").entry end

function M.send(dest, topic, ...)
  me("send")
  local err = check_dest(dest, "send") or check_topic(topic, "process.send")
  if err then return nil, err end
  return H.send(dest, topic, select("#", ...), ...)
end

-------------------------------------------------------------------------------
-- Spawner builders
-------------------------------------------------------------------------------

local SPAWNER_MT = {__metatable = "spawner", __name = "spawner"}
local spawner = {}
SPAWNER_MT.__index = spawner
SPAWNER_MT.__newindex = function() invalid("spawners are immutable", 2) end
K.PROTECTED_MTS[SPAWNER_MT] = true
local SS = {}    -- private state key

local function new_spawner(st) return setmetatable({[SS] = st}, SPAWNER_MT) end
local function sstate(s, fn)
  local st = debug.getmetatable(s) == SPAWNER_MT and rawget(s, SS)
  if not st then invalid("spawner:" .. fn .. " must be called on a spawner (use process.with_options)", 3) end
  return st
end
local function derive(st, key, value)
  local n = {options = st.options, ctx = st.ctx, name = st.name, messages = st.messages}
  n[key] = value
  return new_spawner(n)
end
local function merged(a, b)
  local out = {}
  if a then for k, v in pairs(a) do out[k] = v end end
  for k, v in pairs(b) do out[k] = v end
  return out
end

local function is_workflow_option(k)
  return type(k) == "string" and (k:sub(1, 18) == "temporal.workflow." or k:sub(1, 9) == "workflow.")
end

function spawner.with_options(s, options)
  local st = sstate(s, "with_options")
  if type(options) ~= "table" then invalid("with_options expects a table", 2) end
  return derive(st, "options", merged(st.options, options))
end
function spawner.with_context(s, values)
  local st = sstate(s, "with_context")
  if type(values) ~= "table" then invalid("with_context expects a table", 2) end
  return derive(st, "ctx", merged(st.ctx, values))
end
function spawner.with_name(s, name)
  local st = sstate(s, "with_name")
  if type(name) ~= "string" then invalid("with_name expects a string", 2) end
  return derive(st, "name", name)
end
function spawner.with_message(s, topic, ...)
  local st = sstate(s, "with_message")
  if type(topic) ~= "string" then invalid("with_message: topic must be a string", 2) end
  local msgs = {}
  if st.messages then for i, m in ipairs(st.messages) do msgs[i] = m end end
  msgs[#msgs + 1] = {topic, pack(...)}
  return derive(st, "messages", msgs)
end
function spawner.with_actor() invalid("with_actor is not supported by this orrery build", 2) end
function spawner.with_scope() invalid("with_scope is not supported by this orrery build", 2) end

-- Builds the start spec or returns nil, err.
local function build_spec(st, id, host, args, fn)
  local proc = me(fn)
  if id == nil or host == nil then return nil, Invalid("process." .. fn .. ": missing entry id or host") end
  if type(id) ~= "string" then invalid("process." .. fn .. ": entry id must be a string", 4) end
  if type(host) ~= "string" then invalid("process." .. fn .. ": host must be a string", 4) end
  if not id:find(":", 1, true) or id == "" then return nil, Invalid("process." .. fn .. ": malformed entry id \"" .. id .. "\"") end
  if host == "" then return nil, Invalid("process." .. fn .. ": empty host") end
  local options = st.options
  if options then
    for k, v in pairs(options) do
      if k == "mailbox" then
        -- the bounds apply where the host keeps the mailbox in memory (docs/mailboxes.md)
        local cfg, why = K.mailbox_config(v, "spawn option mailbox")
        if not cfg then return nil, Invalid(why) end
      elseif not is_workflow_option(k) then
        return nil, Invalid("unknown spawn option \"" .. tostring(k) .. "\" (accepted: mailbox, workflow.* and temporal.workflow.* keys)")
      end
    end
  end
  if st.name ~= nil and not H.valid_name(st.name) then
    return nil, Invalid("names must be non-empty strings without { } or |")
  end
  if st.messages then
    for _, m in ipairs(st.messages) do
      local err = check_topic(m[1], "with_message")
      if err then return nil, err end
    end
  end
  local ctx = proc.ctx
  if st.ctx then
    local c, err = K.copy(merged(proc.ctx, st.ctx))
    if not c then return nil, err end
    ctx = c
  end
  return {entry = id, host = host, args = args, name = st.name, messages = st.messages,
          ctx = ctx, options = options}
end

local function spawn_with(st, fn, monitor, link, id, host, ...)
  local spec, err = build_spec(st, id, host, pack(...), fn)
  if not spec then return nil, err end
  spec.monitor, spec.link = monitor, link
  return H.spawn(spec)
end

local EMPTY = {}
function spawner.spawn(s, id, host, ...) return spawn_with(sstate(s, "spawn"), "spawn", false, false, id, host, ...) end
function spawner.spawn_monitored(s, id, host, ...)
  return spawn_with(sstate(s, "spawn_monitored"), "spawn_monitored", true, false, id, host, ...)
end
function spawner.spawn_linked(s, id, host, ...)
  return spawn_with(sstate(s, "spawn_linked"), "spawn_linked", false, true, id, host, ...)
end
function spawner.spawn_linked_monitored(s, id, host, ...)
  return spawn_with(sstate(s, "spawn_linked_monitored"), "spawn_linked_monitored", true, true, id, host, ...)
end
function spawner.exec(s, id, host, ...)
  local spec, err = build_spec(sstate(s, "exec"), id, host, pack(...), "exec")
  if not spec then return nil, err end
  return H.exec(spec)
end

function M.with_options(options) return spawner.with_options(new_spawner(EMPTY), options) end
function M.with_context(values) return spawner.with_context(new_spawner(EMPTY), values) end

function M.spawn(id, host, ...) return spawn_with(EMPTY, "spawn", false, false, id, host, ...) end
function M.spawn_monitored(id, host, ...) return spawn_with(EMPTY, "spawn_monitored", true, false, id, host, ...) end
function M.spawn_linked(id, host, ...) return spawn_with(EMPTY, "spawn_linked", false, true, id, host, ...) end
function M.spawn_linked_monitored(id, host, ...)
  return spawn_with(EMPTY, "spawn_linked_monitored", true, true, id, host, ...)
end

function M.exec(id, host, ...)
  local spec, err = build_spec(EMPTY, id, host, pack(...), "exec")
  if not spec then return nil, err end
  return H.exec(spec)
end

-------------------------------------------------------------------------------
-- Terminate, cancel, monitors, links
-------------------------------------------------------------------------------

function M.terminate(dest)
  me("terminate")
  local err = check_dest(dest, "terminate")
  if err then return nil, err end
  return H.terminate(dest)
end

-- process.cancel(dest [, reason [, {deadline = d}]]) and the legacy
-- process.cancel(dest, deadline) form (docs/reference/lua-modules.md, "Stopping").
function M.cancel(dest, reason, options)
  me("cancel")
  local err = check_dest(dest, "cancel")
  if err then return nil, err end
  local deadline
  if type(reason) == "number" then
    deadline, reason = reason, ""
  elseif type(reason) == "string" and options == nil and K.parse_duration(reason) then
    deadline, reason = reason, ""
  elseif reason ~= nil and type(reason) ~= "string" then
    invalid("process.cancel: reason must be a string", 2)
  end
  if options ~= nil then
    if type(options) ~= "table" then invalid("process.cancel: options must be a table", 2) end
    for k in pairs(options) do
      if k ~= "deadline" then return nil, Invalid("process.cancel: unknown option \"" .. tostring(k) .. "\"") end
    end
    deadline = options.deadline
  end
  local deadline_ns
  if deadline ~= nil then
    local ns, derr = K.option_duration(deadline)
    if not ns then return nil, Invalid("process.cancel: " .. derr) end
    deadline_ns = ns
  end
  return H.cancel(dest, reason or "", deadline_ns)
end

local function watch_fn(name, op)
  return function(dest)
    me(name)
    local err = check_dest(dest, name)
    if err then return nil, err end
    return op(dest)
  end
end
M.monitor = watch_fn("monitor", function(d) return H.monitor(d) end)
M.unmonitor = watch_fn("unmonitor", function(d) return H.unmonitor(d) end)
M.link = watch_fn("link", function(d) return H.link(d) end)
M.unlink = watch_fn("unlink", function(d) return H.unlink(d) end)

-------------------------------------------------------------------------------
-- Options
-------------------------------------------------------------------------------

function M.get_options()
  return {trap_links = me("get_options").trap_links}
end

function M.set_options(options)
  local proc = me("set_options")
  if type(options) ~= "table" then return false, Invalid("process.set_options expects a table") end
  for k, v in pairs(options) do
    if k == "upgradable" then return false, Invalid("option upgradable is not supported by this orrery build") end
    if k ~= "trap_links" then return false, Invalid("unknown process option \"" .. tostring(k) .. "\"") end
    if type(v) ~= "boolean" then return false, Invalid("trap_links must be a boolean") end
  end
  if options.trap_links ~= nil then proc.trap_links = options.trap_links end
  return true
end

-------------------------------------------------------------------------------
-- Receiving
-------------------------------------------------------------------------------

function M.inbox() return K.inbox(me("inbox")) end
function M.events() return K.events(me("events")) end

function M.listen(topic, options)
  local proc = me("listen")
  local err = check_topic(topic, "process.listen")
  if err then return nil, err end
  local as_message = false
  if options ~= nil then
    if type(options) ~= "table" then invalid("process.listen: options must be a table", 2) end
    for k, v in pairs(options) do
      if k ~= "message" then return nil, Invalid("process.listen: unknown option \"" .. tostring(k) .. "\"") end
      if type(v) ~= "boolean" then return nil, Invalid("process.listen: message must be a boolean") end
    end
    as_message = options.message == true
  end
  return K.listen(proc, topic, as_message)
end

function M.unlisten(ch)
  if not K.is_channel(ch) then invalid("process.unlisten expects a channel", 2) end
  ch:close()
end

function M.upgrade() invalid("process.upgrade is not supported by this orrery build", 2) end

-------------------------------------------------------------------------------
-- Name registry
-------------------------------------------------------------------------------

local registry = {LOCAL = 0, EVENTUAL = 1, CONSISTENT = 2, STRONG = 3}

local function check_scope(scope)
  if scope ~= nil and scope ~= 0 then
    return Invalid("only the LOCAL name scope is supported (clustering is out of scope)")
  end
end

function registry.register(name, pid, scope)
  me("registry.register")
  if type(name) ~= "string" then invalid("process.registry.register: name must be a string", 2) end
  if pid ~= nil and type(pid) ~= "string" then invalid("process.registry.register: pid must be a string", 2) end
  local err = check_scope(scope)
  if err then return nil, err end
  return H.register(name, pid)
end

function registry.lookup(name)
  me("registry.lookup")
  if type(name) ~= "string" then invalid("process.registry.lookup: name must be a string", 2) end
  return H.lookup(name)
end

function registry.unregister(name, scope)
  me("registry.unregister")
  if type(name) ~= "string" then invalid("process.registry.unregister: name must be a string", 2) end
  if check_scope(scope) then return false end
  return H.unregister(name)
end

M.registry = K.readonly(registry, "process.registry")

return M
