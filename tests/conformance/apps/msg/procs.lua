-- Processes under test for messaging (docs/reference/lua-modules.md, "process", "Receiving";
-- docs/reference/semantics.md, "Messages and ordering").
local M = {}

-- listen() data form: one value, zero values, several values
function M.forms()
  local ch = process.listen("v")
  local one = ch:receive()
  local zero = ch:receive()
  local several = ch:receive()
  return {one = one, zero_is_nil = zero == nil, several = several}
end

-- listen{message = true}: Message objects
function M.objects(parent)
  local ch = process.listen("m", {message = true})
  local m = ch:receive()
  local empty = ch:receive()
  return {
    topic = m:topic(),
    from_parent = m:from() == parent,
    data = m:payload():data(),
    empty_has_payload = empty:payload() ~= nil,
    empty_data_is_nil = empty:payload():data() == nil,
  }
end

-- the inbox yields Message objects for every topic
function M.inbox_reader(parent, n)
  local inbox = process.inbox()
  local got = {}
  for i = 1, n do
    local m = inbox:receive()
    got[i] = {topic = m:topic(), from_parent = m:from() == parent, data = m:payload():data()}
  end
  return got
end

-- receives n integers and reports whether they came in order
function M.fifo(parent, n)
  local ch = process.listen("n")
  assert(process.send(parent, "ready"))
  for i = 1, n do
    local v = ch:receive()
    if v ~= i then return {in_order = false, at = i, got = v} end
  end
  return {in_order = true, count = n}
end

-- subscribes to "n" only after a "go" message: earlier "n" messages must be kept
function M.late_listener(n)
  process.listen("go"):receive()
  local ch = process.listen("n")
  local got = {}
  for i = 1, n do got[i] = ch:receive() end
  return got
end

-- reads the inbox, then starts listening to topic "a"
function M.switcher(parent)
  local inbox = process.inbox()
  local first = inbox:receive()
  local a = process.listen("a")
  assert(process.send(parent, "switched"))
  local second = a:receive()
  local other = inbox:receive()
  return {
    first = {first:topic(), first:payload():data()},
    second = second,
    other = {other:topic(), other:payload():data()},
  }
end

local function kind_of(err) return err and err:kind() end

-- topics starting with "@" (and empty topics) are refused
function M.reserved()
  local me = process.pid()
  local r = {}
  local ok, err = process.send(me, "@inbox", 1)
  r.send_reserved = {returned_nil = ok == nil, kind = kind_of(err)}
  ok, err = process.send(me, "", 1)
  r.send_empty = {returned_nil = ok == nil, kind = kind_of(err)}
  local ch
  ch, err = process.listen("@events")
  r.listen_reserved = {returned_nil = ch == nil, kind = kind_of(err)}
  ch, err = process.listen("")
  r.listen_empty = {returned_nil = ch == nil, kind = kind_of(err)}
  return r
end

-- listen twice in the same mode: same channel; in the other mode: Invalid
function M.modes()
  local data = process.listen("x")
  local again = process.listen("x")
  local clash, err = process.listen("x", {message = true})
  local msgs = process.listen("y", {message = true})
  local msgs_again = process.listen("y", {message = true})
  local clash2, err2 = process.listen("y")
  return {
    same_data_channel = data == again,
    same_message_channel = msgs == msgs_again,
    data_then_message = {returned_nil = clash == nil, kind = err and err:kind()},
    message_then_data = {returned_nil = clash2 == nil, kind = err2 and err2:kind()},
  }
end

-- a process can send to itself
function M.to_self()
  local ok = process.send(process.pid(), "me", 42, "x")
  local m = process.inbox():receive()
  return {ok = ok, topic = m:topic(), from_self = m:from() == process.pid(), data = m:payload():data()}
end

-- messages with a listen() subscription skip the inbox; others go to the inbox
function M.topics(parent)
  local a = process.listen("a")
  local inbox = process.inbox()
  assert(process.send(parent, "ready"))
  local from_inbox = inbox:receive()
  local from_a = a:receive()
  return {inbox = {from_inbox:topic(), from_inbox:payload():data()}, listened = from_a}
end

-- sends n numbered messages and ends
function M.burst(parent, n)
  for i = 1, n do assert(process.send(parent, "n", i)) end
  return n
end

-- closing a listen channel sends later messages of that topic back to the inbox
function M.unsubscribe(parent)
  local a = process.listen("a")
  local inbox = process.inbox()
  assert(process.send(parent, "ready"))
  local first = a:receive()
  a:close()
  assert(process.send(parent, "closed"))
  local m = inbox:receive()
  return {first = first, then_inbox = {m:topic(), m:payload():data()}}
end

-- wrong argument types raise Invalid; missing ones return Invalid
function M.bad_arguments()
  local ok, raised = pcall(process.send, {}, "t", 1)
  local ok2, raised2 = pcall(process.send, process.pid(), 42, 1)
  local v, err = process.send(nil, "t", 1)
  local v2, err2 = process.send(process.pid(), nil)
  return {
    table_dest = {raised = not ok, kind = type(raised) ~= "string" and raised:kind() or raised},
    number_topic = {raised = not ok2, kind = type(raised2) ~= "string" and raised2:kind() or raised2},
    missing_dest = {returned_nil = v == nil, kind = err and err:kind()},
    missing_topic = {returned_nil = v2 == nil, kind = err2 and err2:kind()},
  }
end

return M
