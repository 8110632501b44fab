local ctx = require("ctx")
local json = require("json")

return function(tag)
  local tenant = ctx.get("tenant")
  return {tag = tag, seen = ctx.all(), as_json = json.encode({tenant = tenant})}
end
