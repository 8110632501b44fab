-- The `crypto` module (docs/reference/lua-modules.md, "crypto"): only random bytes are supported.
--
-- A trusted chunk called with (K, H); see docs/design.md. The bytes come from `H.entropy`: real
-- operating-system randomness natively, a recorded step inside workflows.

local K, H = ...

local type, ipairs, setmetatable = type, ipairs, setmetatable
local math_tointeger = math.tointeger

local MAX_BYTES = 1048576

local function unsupported(name)
  local message = name .. " is not supported by this orrery build"
  return function() K.invalid(message) end
end

-- `n` random bytes. A non-number `n` is a programming error (raised); a number that is not an
-- integer in 1..1048576 is returned as an Invalid error. Integral floats (16.0) are accepted.
local function random_bytes(n)
  if type(n) ~= "number" then
    K.invalid("crypto.random.bytes: n must be an integer, got " .. type(n))
  end
  local count = math_tointeger(n)
  if count == nil or count < 1 or count > MAX_BYTES then
    return nil, K.error("Invalid", "crypto.random.bytes: n must be an integer in 1.."
      .. MAX_BYTES, false)
  end
  local bytes, err = H.entropy(count)
  if bytes == nil then return nil, err end
  return bytes, nil
end

-- A namespace of unsupported functions: the listed names exist (for `pairs`), and any other name
-- read from it also yields a function that raises the "not supported" error.
local function unsupported_namespace(prefix, names)
  local ns = {}
  for _, name in ipairs(names) do ns[name] = unsupported(prefix .. "." .. name) end
  return setmetatable(ns, {
    __index = function(_, key)
      if type(key) == "string" then return unsupported(prefix .. "." .. key) end
    end,
  })
end

local crypto = {
  random = {
    bytes = random_bytes,
    string = unsupported("crypto.random.string"),
    uuid = unsupported("crypto.random.uuid"),
  },
  random_bytes = random_bytes,
  hmac = unsupported_namespace("crypto.hmac", {"sha256", "sha512"}),
  encrypt = unsupported_namespace("crypto.encrypt", {"aes", "chacha20"}),
  decrypt = unsupported_namespace("crypto.decrypt", {"aes", "chacha20"}),
  jwt = unsupported_namespace("crypto.jwt", {"encode", "verify"}),
  pbkdf2 = unsupported("crypto.pbkdf2"),
  constant_time_compare = unsupported("crypto.constant_time_compare"),
}

return crypto
