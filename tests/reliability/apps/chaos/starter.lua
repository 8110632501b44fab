local REJECT = {["temporal.workflow.id_reuse_policy"] = "reject_duplicate"}

return function(count)
  for n = 1, count do
    local order = {id = "order-" .. n, n = n, of = count}
    -- an order that already ran is not started again (AlreadyExists: fine)
    process.with_options(REJECT):with_name(order.id):spawn("chaos:order", "chaos:worker", order)
  end
  -- order-1 needs one approval; the rest approve each other. A finished order-1
  -- answers NotFound, which is fine too.
  process.send("{chaos:temporal@chaos:worker|order-1}", "approve", "by the starter")
end
