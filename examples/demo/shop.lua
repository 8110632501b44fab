-- Activities of the order saga. They run as function frames on the node.
local M = {}

function M.reserve_stock(order) return "res-" .. order.id end
function M.release_stock(reservation) return "released " .. reservation end
function M.charge_card(order) return "ch-" .. order.id end
function M.refund_card(charge) return "refunded " .. charge end

function M.ship(order)
  if order.region == "mars" then
    return nil, errors.new({message = "no courier flies to mars", kind = errors.UNAVAILABLE, retryable = false})
  end
  return "trk-" .. order.id
end

return M
