-- The `funcs` module (docs/reference/lua-modules.md, "funcs"): calls of function.lua entries. The
-- host
-- decides what a call is: a frame on the native host, an activity in a workflow.

local K, H = ...
local type, pairs, pack, setmetatable, rawget, tostring = type, pairs, table.pack, setmetatable, rawget, tostring
local M = {}

local function Invalid(msg) return K.error("Invalid", msg, false) end

local function check_target(target)
  if target == nil then return Invalid("funcs.call: missing target") end
  if type(target) ~= "string" then K.invalid("funcs.call: target must be a string", 3) end
  local ns = target:match("^([^:]+):(.+)$")
  if not ns then return Invalid("funcs.call: target must be \"namespace:name\", got \"" .. target .. "\"") end
  return nil
end

local EXEC_MT = {__metatable = "executor", __name = "executor"}
local executor = {}
EXEC_MT.__index = executor
EXEC_MT.__newindex = function() K.invalid("executors are immutable", 2) end
K.PROTECTED_MTS[EXEC_MT] = true
local ES = {}

local function new_exec(st) return setmetatable({[ES] = st}, EXEC_MT) end
local function estate(e, fn)
  local st = debug.getmetatable(e) == EXEC_MT and rawget(e, ES)
  if not st then K.invalid("executor:" .. fn .. " must be called on an executor (use funcs.new())", 3) end
  return st
end

local function is_activity_option(k)
  return type(k) == "string" and (k:sub(1, 9) == "activity." or k:sub(1, 18) == "temporal.activity.")
end

-- Validates options; returns the host options table or nil, err.
local function host_options(options)
  if not options then return nil end
  local out = {activity = {}}
  for k, v in pairs(options) do
    if is_activity_option(k) then
      out.activity[k] = v
    elseif k == "timeout" then
      local ns, err = K.option_duration(v)
      if not ns then return nil, Invalid("funcs option timeout: " .. err) end
      out.timeout_ns = ns
    elseif k == "retry" then
      return nil, Invalid("funcs option retry is not supported by this orrery build")
    else
      return nil, Invalid("unknown funcs option \"" .. tostring(k) .. "\"")
    end
  end
  return out
end

local function call_with(st, target, ...)
  if not K.current() then K.invalid("funcs.call can only be used inside a process", 3) end
  local err = check_target(target)
  if err then return nil, err end
  local opts, oerr = host_options(st.options)
  if oerr then return nil, oerr end
  return H.call(target, pack(...), opts, st.ctx)
end

local EMPTY = {}
function M.call(target, ...) return call_with(EMPTY, target, ...) end
function M.new() return new_exec(EMPTY) end
function M.async() K.invalid("funcs.async is not supported by this orrery build", 2) end

local function merged(a, b)
  local out = {}
  if a then for k, v in pairs(a) do out[k] = v end end
  for k, v in pairs(b) do out[k] = v end
  return out
end

function executor.with_options(e, options)
  local st = estate(e, "with_options")
  if type(options) ~= "table" then K.invalid("with_options expects a table", 2) end
  return new_exec({options = merged(st.options, options), ctx = st.ctx})
end
function executor.with_context(e, values)
  local st = estate(e, "with_context")
  if type(values) ~= "table" then K.invalid("with_context expects a table", 2) end
  local c, err = K.copy(values)
  if not c then K.invalid("with_context: " .. err:message(), 2) end
  return new_exec({options = st.options, ctx = merged(st.ctx, c)})
end
function executor.call(e, target, ...) return call_with(estate(e, "call"), target, ...) end
function executor.async() K.invalid("executor:async is not supported by this orrery build", 2) end
function executor.with_actor() K.invalid("with_actor is not supported by this orrery build", 2) end
function executor.with_scope() K.invalid("with_scope is not supported by this orrery build", 2) end

return M
