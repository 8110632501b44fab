-- The `payload` module (docs/reference/lua-modules.md, "payload").

local K = ...
local M = {}

function M.new(v)
  local c, err = K.copy(v)
  if err then K.invalid("payload.new: " .. err:message(), 2) end
  return K.new_payload(c, false)
end

M.format = K.readonly({
  LUA = "lua/any", MSGPACK = "application/msgpack", JSON = "json/plain", YAML = "yaml/plain",
  STRING = "text/plain", BYTES = "application/octet-stream", GOLANG_ERROR = "golang/error",
}, "payload.format")

return M
