-- `senders` processes send `per_sender` messages each to one receiver.
return function(senders, per_sender)
  local report = process.listen("report")
  local sent = process.listen("sent")
  local me = process.pid()
  local receiver = assert(process.spawn("load:receiver", "load:processes", me, senders, per_sender))
  for id = 1, senders do
    assert(process.spawn("load:sender", "load:processes", me, receiver, id, per_sender))
  end
  for _ = 1, senders do sent:receive() end
  return report:receive()
end
