local time = require("time")

local function main()
  local data = channel.new()                        -- unbuffered
  coroutine.spawn(function()
    for i, ms in ipairs({100, 150, 450}) do         -- values arrive at ~100, ~250, ~700 ms
      time.sleep(ms * time.MILLISECOND)
      data:send(i)
    end
    data:close()
  end)

  local got, timeouts = {}, 0
  while true do
    local r = channel.select{data:case_receive(), time.after("300ms"):case_receive()}
    if r.channel ~= data then
      timeouts = timeouts + 1
    elseif r.ok then
      got[#got + 1] = r.value
    else
      break                                         -- closed and drained
    end
  end
  local late_value, late_ok = data:receive()

  local empty = channel.new(1)
  local polled = channel.select{empty:case_receive(), default = true}

  local a, b = channel.new(1), channel.new(1)
  a:send("from a")
  b:send("from b")
  local picked = channel.select{b:case_receive(), a:case_receive()}

  local slot = channel.new(1)
  local sent = channel.select{slot:case_send("parcel")}
  local buffered = slot:receive()

  local shut = channel.new(1)
  shut:close()
  local raised = not pcall(function() shut:send(1) end)

  return {
    got = got,
    timeouts = timeouts,
    after_close = {value = late_value, ok = late_ok},
    polled_default = polled.default == true,
    picked = picked.value,
    sent = {value = sent.value, ok = sent.ok, buffered = buffered},
    send_on_closed_raises = raised,
  }
end

return {main = main}
