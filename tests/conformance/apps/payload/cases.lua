-- Payload scenarios: every value class of docs/reference/semantics.md, "Payloads" through every
-- boundary.
local time = require("time")
local funcs = require("funcs")

local function recv(ch, limit)
  local r = channel.select{ch:case_receive(), time.after(limit or "5s"):case_receive()}
  if r.channel ~= ch then error("nothing arrived within " .. (limit or "5s"), 2) end
  return r.value
end

local function exit_of(pid)
  local events = process.events()
  while true do
    local ev = recv(events)
    if ev.kind == process.event.EXIT and ev.from == pid then return ev end
  end
end

local function sample()
  local shared = {x = 1}
  local big = {}
  for i = 1, 10000 do big[i] = i end
  return {
    nan = 0 / 0,
    inf = math.huge,
    ninf = -math.huge,
    negzero = -0.0,
    shared = {a = shared, b = shared, list = {shared, shared}},
    nul_key = {["a\0b"] = 1},
    mixed = {1, 2, x = "y"},
    big = big,
    int = 1,
    float = 1.0,
    half = -2.5,
    maxint = math.maxinteger,
    minint = math.mininteger,
    big_float = 2.0 ^ 60,
    bin = "\0\255\254abc\0",
    text = "h\u{e9}llo \u{2713}",
    empty_string = "",
    yes = true,
    no = false,
    nested = {a = {b = {c = {d = "deep", list = {1, {2, {3}}}}}}},
    holes = {1, nil, 3},
    empty = {},
    list = {"x", "y", "z"},
    intkeys = {[10] = "ten", [-1] = "minus one"},
    pid = process.pid(),
    err = errors.new{kind = "Conflict", message = "taken", retryable = true,
                     details = {id = 7, tags = {"a", "b"}}},
    plain_err = errors.new("plain"),
    no_retry = errors.new{kind = errors.NOT_FOUND, message = "gone", retryable = false},
  }
end

-- the names of the expectations the copy `v` of sample() does not meet
local function check(v)
  local bad = {}
  local function expect(name, f)
    local ok, res = pcall(f)
    if not ok then bad[#bad + 1] = name .. " (raised " .. tostring(res) .. ")"
    elseif not res then bad[#bad + 1] = name end
  end
  expect("int stays an integer", function() return math.type(v.int) == "integer" and v.int == 1 end)
  expect("1.0 stays a float", function() return math.type(v.float) == "float" and v.float == 1.0 end)
  expect("-2.5", function() return v.half == -2.5 end)
  expect("maxinteger", function() return math.type(v.maxint) == "integer" and v.maxint == math.maxinteger end)
  expect("mininteger", function() return math.type(v.minint) == "integer" and v.minint == math.mininteger end)
  expect("2^60 stays a float", function() return math.type(v.big_float) == "float" and v.big_float == 2.0 ^ 60 end)
  expect("binary string", function() return v.bin == "\0\255\254abc\0" and #v.bin == 7 end)
  expect("utf-8 text", function() return v.text == "h\u{e9}llo \u{2713}" end)
  expect("empty string", function() return v.empty_string == "" end)
  expect("booleans", function() return v.yes == true and v.no == false end)
  expect("nested tables", function()
    local c = v.nested.a.b.c
    return c.d == "deep" and c.list[1] == 1 and c.list[2][1] == 2 and c.list[2][2][1] == 3
  end)
  expect("array with a hole", function()
    return v.holes[1] == 1 and v.holes[2] == nil and v.holes[3] == 3
  end)
  expect("empty table", function() return type(v.empty) == "table" and next(v.empty) == nil end)
  expect("array", function() return #v.list == 3 and v.list[1] == "x" and v.list[3] == "z" end)
  expect("integer keys", function()
    return v.intkeys[10] == "ten" and v.intkeys[-1] == "minus one" and v.intkeys["10"] == nil
  end)
  expect("NaN", function() return v.nan ~= v.nan end)
  expect("infinities", function() return v.inf == math.huge and v.ninf == -math.huge end)
  expect("negative zero", function() return math.type(v.negzero) == "float" and 1 / v.negzero == -math.huge end)
  expect("a table referenced twice is not a cycle", function()
    local sh = v.shared
    return sh.a.x == 1 and sh.b.x == 1 and sh.list[1].x == 1 and sh.list[2].x == 1
  end)
  expect("key with NUL", function() return v.nul_key["a\0b"] == 1 end)
  expect("array part plus string keys", function()
    return v.mixed[1] == 1 and v.mixed[2] == 2 and v.mixed.x == "y"
  end)
  expect("10000 elements", function() return #v.big == 10000 and v.big[10000] == 10000 end)
  expect("pid", function() return v.pid == process.pid() end)
  expect("error object", function()
    local e = v.err
    local d = e:details()
    return errors.is(e, "Conflict") and e:kind() == "Conflict" and e:message() == "taken"
      and e:retryable() == true and d.id == 7 and d.tags[2] == "b" and tostring(e) == "taken"
  end)
  expect("error without kind", function()
    return v.plain_err:kind() == "Unknown" and v.plain_err:message() == "plain"
      and v.plain_err:retryable() == nil
  end)
  expect("non-retryable error", function()
    return v.no_retry:kind() == "NotFound" and v.no_retry:retryable() == false
  end)
  return bad
end

local cases = {}

-- a sample sent as a message, as a spawn argument (and back as the result)
function cases.through_process(host)
  local back = process.listen("back")
  local pid = assert(process.spawn_monitored("t.payload:mirror", host, process.pid(), sample()))
  assert(process.send(pid, "v", sample()))
  local via_message = recv(back)
  local res = exit_of(pid).result
  return {message = check(via_message), spawn_and_result = check(res.value)}
end

-- a sample as a function argument and result
function cases.through_call()
  local v, err = funcs.call("t.payload:identity", sample())
  if err then error(err) end
  return check(v)
end

function cases.receiver_mutation(host)
  local mutated = process.listen("mutated")
  local arg = {x = "original", list = {"original"}}
  local msg = {x = "original", list = {"original"}}
  local pid = assert(process.spawn_monitored("t.payload:mutator", host, process.pid(), arg))
  assert(process.send(pid, "t", msg))
  recv(mutated)
  exit_of(pid)
  return {arg = arg, msg = msg}
end

function cases.sender_mutation(host)
  local checked = process.listen("checked")
  local t = {x = "original", list = {"original"}}
  local pid = assert(process.spawn_monitored("t.payload:keeper", host, process.pid()))
  assert(process.send(pid, "t", t))
  t.x = "changed by sender"
  t.list[1] = "changed by sender"
  recv(checked)
  return exit_of(pid).result.value
end

local function deep(n)
  local t = {}
  local cur = t
  for _ = 1, n do cur.next = {}; cur = cur.next end
  return t
end

local function unencodable()
  local cyclic = {}
  cyclic.self = cyclic
  local indirect = {a = {}}
  indirect.a.back = indirect
  return {
    {"function", function() end},
    {"coroutine", coroutine.create(function() end)},
    {"channel", channel.new()},
    {"cyclic table", cyclic},
    {"indirect cycle", indirect},
    {"depth 200", deep(200)},
    {"Time", time.now()},
    {"table key", {[{}] = 1}},
    {"boolean key", {[true] = 1}},
    {"function in a list", {1, 2, print}},
  }
end

local function outcome(ok, a, b)
  if not ok then return "raised: " .. tostring(a) end
  if a ~= nil then return "accepted" end
  return b and b:kind() or "no error"
end

function cases.unencodable(host)
  local out = {}
  local me = process.pid()
  local box = process.listen("v")
  for _, pair in ipairs(unencodable()) do
    local name, value = pair[1], pair[2]
    out[name] = {
      send = outcome(pcall(process.send, me, "v", value)),
      spawn = outcome(pcall(process.spawn, "t.payload:mirror", host, me, value)),
      call = outcome(pcall(funcs.call, "t.payload:identity", value)),
    }
  end
  -- the sender keeps working: a good message still goes through
  assert(process.send(me, "v", "still works"))
  out.after = recv(box)
  return out
end

-- a Payload crosses as its value; context values follow the payload rules too
function cases.payload_objects(host)
  local back = process.listen("back")
  local wrapped = payload.new({x = 1, list = {1.0}})
  local pid = assert(process.spawn_monitored("t.payload:mirror", host, process.pid(), wrapped))
  assert(process.send(pid, "v", payload.new("inside")))
  local via_message = recv(back)
  local res = exit_of(pid).result.value
  local spawned, err = process.with_context({f = print}):spawn("t.payload:mirror", host, process.pid())
  return {
    local_data = wrapped:data().x,
    via_message = via_message,
    via_spawn = res,
    float_kept = math.type(res.list[1]) == "float",
    bad_context = {returned_nil = spawned == nil, kind = err and err:kind()},
  }
end

function cases.depth_100_is_fine()
  local v, err = funcs.call("t.payload:identity", deep(100))
  if err then return err:kind() end
  local n, cur = 0, v
  while cur.next do n = n + 1; cur = cur.next end
  return n
end

return {main = function(case, ...) return cases[case](...) end}
