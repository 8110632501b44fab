local M = {}

function M.reserve_stock(order)
  return {reservation = "res-" .. order.id}
end

function M.charge_card(order)
  if order.card == "declined" then
    return nil, errors.new({message = "card declined", kind = errors.INVALID, retryable = false})
  end
  return {charge = "ch-" .. order.id}
end

function M.book_courier(order)
  if order.region == "mars" then
    return nil, errors.new({message = "no courier for mars", kind = errors.UNAVAILABLE, retryable = false})
  end
  return {tracking = "trk-" .. order.id}
end

function M.refund_card(charge) return {refunded = charge} end
function M.release_stock(reservation) return {released = reservation} end

return M
