local logger = require("logger")

-- each activity logs one line per execution; the driver counts them
local function step(name, result)
  return function(order)
    logger:info("activity " .. name .. " " .. order.id)
    return result(order)
  end
end

return {
  reserve = step("reserve", function(o) return "res-" .. o.id end),
  charge = step("charge", function(o) return "chg-" .. o.id end),
  ship = step("ship", function(o)
    if o.n % 3 == 0 then
      return nil, errors.new({kind = errors.UNAVAILABLE, message = "no courier for " .. o.id, retryable = false})
    end
    return "trk-" .. o.id
  end),
  refund = step("refund", function(o) return "refunded " .. o.id end),
  release = step("release", function(o) return "released " .. o.id end),
}
