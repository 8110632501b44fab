-- The `uuid` module (docs/reference/lua-modules.md, "uuid").
--
-- A trusted chunk called with (K, H); see docs/design.md. `uuid.v4` draws from the process's
-- random stream (`H.random_bytes`), which the Temporal host makes deterministic inside workflows.
-- Strings are lowercase, hyphenated, 36 characters.

local K, H = ...

local type, ipairs = type, ipairs
local string_byte, string_format, string_sub, string_lower, string_find =
  string.byte, string.format, string.sub, string.lower, string.find

local HEX36 = "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x"

local uuid = {}

-- A random (version 4, RFC 4122 variant) UUID.
function uuid.v4()
  local bytes, err = H.random_bytes(16)
  if bytes == nil then return nil, err end
  local b = {string_byte(bytes, 1, 16)}
  b[7] = (b[7] & 0x0f) | 0x40 -- version 4
  b[9] = (b[9] & 0x3f) | 0x80 -- variant 10xx (RFC 4122)
  return string_format(HEX36, b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
    b[11], b[12], b[13], b[14], b[15], b[16]), nil
end

-- Whether `s` is a UUID string in one of the forms Go's github.com/google/uuid accepts:
-- "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (any hex case), the same inside "{...}" or after
-- "urn:uuid:", or 32 hex digits without hyphens. Version and variant bits are not checked.
-- Anything that is not a string is not a UUID.
function uuid.validate(s)
  if type(s) ~= "string" then return false end
  local n = #s
  if n == 32 then
    return string_find(s, "^%x+$") ~= nil
  elseif n == 45 then
    if string_lower(string_sub(s, 1, 9)) ~= "urn:uuid:" then return false end
    s = string_sub(s, 10)
  elseif n == 38 then
    if string_byte(s, 1) ~= 123 or string_byte(s, 38) ~= 125 then return false end -- { }
    s = string_sub(s, 2, 37)
  elseif n ~= 36 then
    return false
  end
  return string_find(s, "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")
    ~= nil
end

for _, name in ipairs{"v1", "v3", "v5", "v7", "version", "variant", "parse", "format"} do
  local message = "uuid." .. name .. " is not supported by this orrery build"
  uuid[name] = function() K.invalid(message) end
end

return uuid
