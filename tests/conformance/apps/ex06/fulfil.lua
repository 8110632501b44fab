local funcs = require("funcs")

-- each step is tried once; failures are answered with compensation, not with retries
local once = funcs.new():with_options({["activity.retry_policy"] = {maximum_attempts = 1}})

local plan = {
  {step = "stock",    run = "ex.saga:reserve_stock", undo = "ex.saga:release_stock", handle = "reservation"},
  {step = "payment",  run = "ex.saga:charge_card",   undo = "ex.saga:refund_card",   handle = "charge"},
  {step = "shipping", run = "ex.saga:book_courier"},
}

local function compensate(done)
  local log = {}
  for i = #done, 1, -1 do
    local _, err = once:call(done[i].undo, done[i].handle)
    log[#log + 1] = err and ("failed " .. done[i].undo) or done[i].undo
  end
  return log
end

local function main(order)
  local done, last = {}, nil
  for _, p in ipairs(plan) do
    local out, err = once:call(p.run, order)
    if err then
      return {
        status = "failed",
        step = p.step,
        kind = err:kind(),
        reason = errors.wrap(err, p.step):message(),
        compensated = compensate(done),
      }
    end
    if p.undo then done[#done + 1] = {undo = p.undo, handle = out[p.handle]} end
    last = out
  end
  return {status = "completed", tracking = last.tracking}
end

return {main = main}
