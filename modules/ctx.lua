-- The `ctx` module (docs/reference/lua-modules.md, "ctx"; docs/reference/semantics.md, "Context"):
-- read the current process's context.
--
-- A trusted chunk called with (K, H); see docs/design.md. The context table of the running
-- process (`K.current().ctx`) is never handed out: tables are copied with `K.copy`. Keys starting
-- with "orrery." belong to the runtime and are neither returned nor listed.

local K = ...

local type, pairs, next = type, pairs, next
local string_sub = string.sub

local RESERVED_PREFIX = "orrery."
local RESERVED_LEN = #RESERVED_PREFIX

local function reserved(key)
  return type(key) == "string" and string_sub(key, 1, RESERVED_LEN) == RESERVED_PREFIX
end

local function current_context()
  local proc = K.current()
  return proc and proc.ctx
end

local ctx = {}

-- The context value under `key`: `value, nil`, or `nil, err` with kind Invalid (empty key) or
-- NotFound (no such key, or a reserved one). A key that is not a string is raised as Invalid.
function ctx.get(key)
  if type(key) ~= "string" then
    K.invalid("ctx.get: key must be a string, got " .. type(key))
  end
  if key == "" then
    return nil, K.error("Invalid", "ctx.get: key must not be empty", false)
  end
  local context = current_context()
  local value
  if context ~= nil and not reserved(key) then value = context[key] end
  if value == nil then
    return nil, K.error("NotFound", "context key not found: " .. key)
  end
  if type(value) == "table" then
    return K.copy(value)
  end
  return value, nil
end

-- A fresh copy of the whole context without reserved keys; `{}` when there is none.
function ctx.all()
  local context = current_context()
  if context == nil or next(context) == nil then return {}, nil end
  local copy, err = K.copy(context)
  if copy == nil then return nil, err end
  for key in pairs(copy) do
    -- clearing fields during traversal is allowed in Lua
    if reserved(key) then copy[key] = nil end
  end
  return copy, nil
end

return ctx
