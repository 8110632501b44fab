-- Receives `senders * per_sender` messages of topic "n", each the integer
-- sender * 1e6 + seq, checks that every sender's sequence arrives in order and
-- reports the counts to `parent`.
local function main(parent, senders, per_sender)
  local n = process.listen("n")
  local last = {}
  for s = 1, senders do last[s] = 0 end
  local received, violations, foreign = 0, 0, 0
  local total = senders * per_sender
  while received < total do
    local v = n:receive()
    local s, seq = v // 1000000, v % 1000000
    local prev = last[s]
    if prev == nil then
      foreign = foreign + 1
    else
      if seq ~= prev + 1 then violations = violations + 1 end
      last[s] = seq
    end
    received = received + 1
  end
  local complete = 0
  for s = 1, senders do
    if last[s] == per_sender then complete = complete + 1 end
  end
  process.send(parent, "report", {received = received, order_violations = violations,
                                  foreign = foreign, complete_senders = complete})
end

return {main = main}
