-- The `errors` module (docs/reference/lua-modules.md, "errors"): kind constants and error objects.

local K = ...
local type, pairs, tostring = type, pairs, tostring

local M = {
  UNKNOWN = "Unknown", INVALID = "Invalid", NOT_FOUND = "NotFound",
  ALREADY_EXISTS = "AlreadyExists", PERMISSION_DENIED = "PermissionDenied",
  UNAVAILABLE = "Unavailable", INTERNAL = "Internal", CANCELED = "Canceled",
  CONFLICT = "Conflict", TIMEOUT = "Timeout", RATE_LIMITED = "RateLimited",
}

local FIELDS = {message = true, kind = true, retryable = true, details = true}

function M.new(arg, extra)
  if extra ~= nil then
    K.invalid("errors.new takes a message or a table {message=, kind=, retryable=, details=}", 2)
  end
  if type(arg) == "string" then return K.error("Unknown", arg, nil, nil) end
  if type(arg) ~= "table" then K.invalid("errors.new expects a string or a table", 2) end
  for k in pairs(arg) do
    if not FIELDS[k] then K.invalid("errors.new: unknown field \"" .. tostring(k) .. "\"", 2) end
  end
  if type(arg.message) ~= "string" then K.invalid("errors.new: message must be a string", 2) end
  local kind = arg.kind
  if kind == nil then kind = "Unknown" end
  if type(kind) ~= "string" then K.invalid("errors.new: kind must be a string", 2) end
  local retryable = arg.retryable
  if retryable ~= nil and type(retryable) ~= "boolean" then K.invalid("errors.new: retryable must be a boolean", 2) end
  local details = arg.details
  if details ~= nil then
    if type(details) ~= "table" then K.invalid("errors.new: details must be a table", 2) end
    local c, err = K.copy(details)
    if not c then K.invalid("errors.new: details: " .. err:message(), 2) end
    details = c
  end
  return K.error(kind, arg.message, retryable, details)
end

function M.wrap(err, message)
  if err == nil then return nil end
  if type(message) ~= "string" then K.invalid("errors.wrap: message must be a string", 2) end
  if type(err) == "string" then err = K.error("Unknown", err) end
  if not K.is_error(err) then K.invalid("errors.wrap expects an error object or a string", 2) end
  local kind, msg, retryable, details = K.error_fields(err)
  return K.error(kind, message .. ": " .. msg, retryable, details, err)
end

function M.is(err, kind)
  while K.is_error(err) do
    if err:kind() == kind then return true end
    err = K.error_cause(err)
  end
  return false
end

function M.call_stack(err)
  if not K.is_error(err) then return nil end
  return nil
end

return M
