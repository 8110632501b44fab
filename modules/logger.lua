-- The `logger` module: records go to Python logging with pid and entry fields.
-- Both logger.info(msg) and logger:info(msg) work.

local K, H = ...
local type, pairs, setmetatable, rawget = type, pairs, setmetatable, rawget

local LOGGER_MT = {__metatable = "logger", __name = "logger"}
local methods = {}
LOGGER_MT.__index = methods
LOGGER_MT.__newindex = function() K.invalid("loggers are immutable", 2) end
K.PROTECTED_MTS[LOGGER_MT] = true
local LS = {}

local function new_logger(fields, name) return setmetatable({[LS] = {fields = fields, name = name}}, LOGGER_MT) end

local ROOT = new_logger(nil, nil)

local function state_of(self) return debug.getmetatable(self) == LOGGER_MT and rawget(self, LS) end

-- logger:info(...) on the module itself passes the module's read-only proxy.
local function resolve(self, a, b)
  local st = state_of(self)
  if st then return st, a, b end
  if type(self) == "table" and getmetatable(self) == "logger" then return rawget(ROOT, LS), a, b end
  return rawget(ROOT, LS), self, a      -- logger.info(msg, fields)
end

local function emit(level, self, msg, fields)
  local st
  st, msg, fields = resolve(self, msg, fields)
  if fields ~= nil and type(fields) ~= "table" then K.invalid("logger: fields must be a table", 3) end
  local all = fields
  if st.fields then
    all = {}
    for k, v in pairs(st.fields) do all[k] = v end
    if fields then for k, v in pairs(fields) do all[k] = v end end
  end
  if st.name then
    all = all or {}
    all.logger = st.name
  end
  -- capped before it reaches the host (docs/sandbox.md, "C library work")
  local cw = K.cwork
  H.log(level, cw.cap(tostring(msg)), all and cw.cap_fields(all))
end

for _, level in ipairs({"debug", "info", "warn", "error"}) do
  methods[level] = function(self, msg, fields) emit(level, self, msg, fields) end
end

function methods.with(self, fields)
  local st
  st, fields = resolve(self, fields)
  if type(fields) ~= "table" then K.invalid("logger:with expects a table", 2) end
  local all = {}
  if st.fields then for k, v in pairs(st.fields) do all[k] = v end end
  for k, v in pairs(fields) do all[k] = v end
  return new_logger(all, st.name)
end

function methods.named(self, name)
  local st
  st, name = resolve(self, name)
  if type(name) ~= "string" or name == "" then K.invalid("logger:named expects a non-empty string", 2) end
  return new_logger(st.fields, name)
end

return ROOT
