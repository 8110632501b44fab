local function main()
  local orders = {
    ok      = {id = "A1", card = "visa",     region = "eu"},
    no_ship = {id = "B2", card = "visa",     region = "mars"},
    no_pay  = {id = "C3", card = "declined", region = "eu"},
  }
  local results = {}
  for label, order in pairs(orders) do
    local res, err = process.exec("ex.saga:fulfil", "app:worker", order)
    results[label] = res or {exec_error = err:kind()}
  end
  -- outside a workflow the same function is an ordinary local call
  results.direct = require("funcs").call("ex.saga:reserve_stock", {id = "Z9"})
  return results
end

return {main = main}
