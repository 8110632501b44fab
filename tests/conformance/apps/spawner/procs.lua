local ctx = require("ctx")
local M = {}

function M.reader() return ctx.all() end

function M.first_message()
  local m = process.inbox():receive()
  return {m:topic(), m:payload():data()}
end

return M
