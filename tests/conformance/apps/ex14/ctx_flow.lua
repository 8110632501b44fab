local ctx = require("ctx")
local funcs = require("funcs")
local uuid = require("uuid")
local crypto = require("crypto")
local time = require("time")

local function main()
  local tenant = ctx.get("tenant")
  local _, missing = ctx.get("no-such-key")
  local plain = funcs.call("ex.ctx:whoami", "plain")
  local tagged = funcs.new():with_context({step = "charge"}):call("ex.ctx:whoami", "tagged")
  local id = uuid.v4()
  local noise = crypto.random_bytes(16)
  return {
    tenant = tenant,
    missing = missing:kind(),
    plain = plain,
    tagged = tagged,
    uuid_ok = #id == 36,
    noise_len = #noise,
    clock_agrees = os.time() == time.now():unix(),
  }
end

return {main = main}
