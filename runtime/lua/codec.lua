-- orrery payload codec (docs/reference/semantics.md, "Payloads"): msgpack encoding and the
-- in-state deep copy.
--
-- Trusted code: it runs with the real standard library and is never visible to user code. The
-- chunk returns a constructor; the kernel calls it with its hooks:
--
--   hooks.is_error(v)       -> whether v is an error object
--   hooks.error_fields(e)   -> kind, message, retryable, details
--   hooks.make_error(kind, message, retryable, details) -> a new error object
--   hooks.unwrap(v)         -> true, inner value for a Payload object; false otherwise
--
-- and gets back `codec` with `encode`, `decode` and `copy`.
--
-- The one rule everything here keeps: `copy(v)` accepts exactly the values `encode(v)` accepts
-- and returns what `decode(encode(v))` would, so a program cannot tell whether a value crossed a
-- process boundary in memory or as bytes. In particular:
--   * shared sub-tables are copied once per occurrence (encoding duplicates them too);
--   * only the *current path* counts as a cycle, so a DAG is fine and a cycle is an error;
--   * the nesting depth counts tables and error objects (an error's details table is one level
--     below the error); a Payload is transparent and adds no level; at most MAX_DEPTH levels;
--   * an error object becomes a fresh error built by make_error (its cause and stack are dropped).
-- When a value has several faults, copy and encode may report different ones: copy walks keys in
-- `next` order, encode in sorted order. Either way the value is rejected.
--
-- Decisions:
--   * Tables with a metatable that are neither errors nor payloads cannot be sent; the message
--     names the metatable's `__name` when it is a string ("value of type Time cannot be sent"),
--     else says "table with a metatable". Userdata likewise ("userdata" without `__name`).
--   * decode rejects msgpack integers outside int64 (uint64 above 2^63-1) instead of turning them
--     into floats: a silent float would break the integer/float distinction this codec keeps.
--   * decode accepts float32 (as a Lua float) and every other msgpack format, although encode only
--     writes float64 and the smallest integer, string, array and map formats.
--   * Map keys are written sorted (integers ascending, then strings bytewise), so equal tables
--     always encode to equal bytes.
--   * An error object's kind and message must be strings, retryable a boolean or nil, and details
--     a plain table (no metatable) or nil; decode checks the same on ext type 1.

local type, next, error, tostring, rawlen, rawget = type, next, error, tostring, rawlen, rawget
local getmt = debug.getmetatable
local mtype = math.type
local spack, sunpack, sbyte, schar, ssub = string.pack, string.unpack, string.byte, string.char, string.sub
local concat, sort = table.concat, table.sort
local utf8len = utf8.len

local MAX_DEPTH = 128
local MSG_CYCLE = "cannot send a table that contains itself"
local MSG_DEPTH = "value is nested deeper than " .. MAX_DEPTH .. " levels"

-- Single-byte strings, indexed by byte value.
local BYTE = {}
for i = 0, 255 do BYTE[i] = schar(i) end

-- Lua compares strings with strcoll; under the "C" collation (Python never changes
-- LC_COLLATE) that is bytewise order. If the process collates differently, fall back to an
-- explicit bytewise comparison so map key order stays deterministic.
local bytewise_lt
if ("B" < "a") and ("a" < "\200") and not ("a\0b" < "a") then -- luacheck: ignore 581
  bytewise_lt = nil -- plain `<` is bytewise
else
  bytewise_lt = function(a, b)
    local la, lb = #a, #b
    for i = 1, (la < lb and la or lb) do
      local x, y = sbyte(a, i), sbyte(b, i)
      if x ~= y then return x < y end
    end
    return la < lb
  end
end

-- Order of map keys: integers ascending, then strings bytewise.
local function key_lt(a, b)
  local ta, tb = type(a), type(b)
  if ta == tb then
    if ta == "string" and bytewise_lt then return bytewise_lt(a, b) end
    return a < b
  end
  return ta == "number"
end

local function sort_keys(keys, kinds)
  -- kinds: 1 = only integers, 2 = only strings, 3 = both
  if kinds == 1 or (kinds == 2 and not bytewise_lt) then
    sort(keys)
  else
    sort(keys, key_lt)
  end
end

local function key_problem(k)
  local tk = type(k)
  if tk == "number" then tk = "float" end
  return "table keys must be strings or integers (got " .. tk .. ")"
end

-- The message for a value that cannot be sent.
local function unsendable(v)
  local tv = type(v)
  if tv == "table" or tv == "userdata" then
    local mt = getmt(v)
    local name = mt and rawget(mt, "__name")
    if type(name) == "string" then
      tv = name
    elseif tv == "table" then
      tv = "table with a metatable"
    end
  end
  return "value of type " .. tv .. " cannot be sent"
end

-- Whether `stack[1..depth]` (the tables being walked) holds the same table twice: used only after
-- the depth limit is hit, to tell a cycle from a merely deep value.
local function has_cycle(stack, depth)
  local seen = {}
  for i = 1, depth do
    local t = stack[i]
    if t ~= nil then
      if seen[t] then return true end
      seen[t] = true
    end
  end
  return false
end

local function depth_problem(stack, depth)
  if has_cycle(stack, depth) then return MSG_CYCLE end
  return MSG_DEPTH
end

return function(hooks)
  local is_error, error_fields, make_error, unwrap =
    hooks.is_error, hooks.error_fields, hooks.make_error, hooks.unwrap

  -- bytewise_lt: the bytewise string order (nil when plain `<` already is), for table.sort
  local codec = {MAX_DEPTH = MAX_DEPTH, bytewise_lt = bytewise_lt}

  -- Checks the fields of an error object; returns nil or a problem.
  local function error_problem(kind, message, retryable, details)
    if type(kind) ~= "string" then return "error object has a kind that is not a string" end
    if type(message) ~= "string" then return "error object has a message that is not a string" end
    if retryable ~= nil and type(retryable) ~= "boolean" then
      return "error object has a retryable flag that is not a boolean"
    end
    if details ~= nil and (type(details) ~= "table" or getmt(details) ~= nil) then
      return "error object has details that are not a plain table"
    end
    return nil
  end

  ---------------------------------------------------------------------------
  -- copy
  ---------------------------------------------------------------------------

  -- `stack[d]` is the table at depth d of the current path (cycle diagnosis only).
  local copy_stack = {}
  local copy_table, copy_special

  -- Copies a plain table `t` at nesting depth `depth`. Returns the copy or nil, problem.
  copy_table = function(t, depth)
    if depth > MAX_DEPTH then return nil, depth_problem(copy_stack, depth - 1) end
    copy_stack[depth] = t
    local r = {}
    for k, v in next, t do
      if type(k) ~= "string" and mtype(k) ~= "integer" then return nil, key_problem(k) end
      local tv = type(v)
      if tv == "table" then
        local why
        if getmt(v) == nil then
          v, why = copy_table(v, depth + 1)
        else
          v, why = copy_special(v, depth + 1)
        end
        if why then return nil, why end
      elseif tv ~= "string" and tv ~= "number" and tv ~= "boolean" then
        local why
        v, why = copy_special(v, depth + 1)
        if why then return nil, why end
      end
      r[k] = v
    end
    copy_stack[depth] = nil
    return r
  end

  -- Copies an error object, a payload, or rejects anything else that is not plain data.
  copy_special = function(v, depth)
    if is_error(v) then
      if depth > MAX_DEPTH then return nil, depth_problem(copy_stack, depth - 1) end
      local kind, message, retryable, details = error_fields(v)
      local why = error_problem(kind, message, retryable, details)
      if why then return nil, why end
      if details ~= nil then
        copy_stack[depth] = v
        details, why = copy_table(details, depth + 1)
        copy_stack[depth] = nil
        if why then return nil, why end
      end
      return make_error(kind, message, retryable, details)
    end
    local tv = type(v)
    if tv == "table" or tv == "userdata" then
      local ok, inner = unwrap(v)
      if ok then
        local ti = type(inner)
        if ti == "table" and getmt(inner) == nil then return copy_table(inner, depth) end
        if ti == "nil" or ti == "string" or ti == "number" or ti == "boolean" then return inner end
        return copy_special(inner, depth)
      end
    end
    return nil, unsendable(v)
  end

  -- Deep copy under the payload rules. Returns the copy, or nil and a problem (a string).
  function codec.copy(v)
    local tv = type(v)
    if tv == "string" or tv == "number" or tv == "boolean" or tv == "nil" then return v end
    local r, why
    if tv == "table" and getmt(v) == nil then
      r, why = copy_table(v, 1)
    else
      r, why = copy_special(v, 1)
    end
    if why then
      for i = #copy_stack, 1, -1 do copy_stack[i] = nil end
      return nil, why
    end
    return r
  end

  ---------------------------------------------------------------------------
  -- encode
  ---------------------------------------------------------------------------

  local parts, np -- output buffer of the encode call in progress
  local buffer = {} -- reused by encode calls
  local enc_stack = {}
  local enc_value

  local function put(s)
    np = np + 1
    parts[np] = s
  end

  local function put_int(v)
    if v >= 0 then
      if v < 128 then put(BYTE[v])
      elseif v < 0x100 then put(spack(">BI1", 0xcc, v))
      elseif v < 0x10000 then put(spack(">BI2", 0xcd, v))
      elseif v < 0x100000000 then put(spack(">BI4", 0xce, v))
      else put(spack(">Bi8", 0xcf, v)) end
    else
      if v >= -32 then put(BYTE[v + 256])
      elseif v >= -0x80 then put(spack(">Bi1", 0xd0, v))
      elseif v >= -0x8000 then put(spack(">Bi2", 0xd1, v))
      elseif v >= -0x80000000 then put(spack(">Bi4", 0xd2, v))
      else put(spack(">Bi8", 0xd3, v)) end
    end
  end

  local function put_string(s)
    local n = #s
    if utf8len(s) then
      if n < 32 then put(BYTE[0xa0 + n]); put(s)
      elseif n < 0x100 then put(spack(">Bs1", 0xd9, s))
      elseif n < 0x10000 then put(spack(">Bs2", 0xda, s))
      elseif n < 0x100000000 then put(spack(">Bs4", 0xdb, s))
      else return "string is too long to be sent" end
    else
      if n < 0x100 then put(spack(">Bs1", 0xc4, s))
      elseif n < 0x10000 then put(spack(">Bs2", 0xc5, s))
      elseif n < 0x100000000 then put(spack(">Bs4", 0xc6, s))
      else return "string is too long to be sent" end
    end
    return nil
  end

  local function put_header(n, fix, b16, b32)
    if n < 16 then put(BYTE[fix + n])
    elseif n < 0x10000 then put(spack(">BI2", b16, n))
    else put(spack(">BI4", b32, n)) end
  end

  -- Encodes the plain table t at `depth`; returns nil or a problem.
  local function enc_table(t, depth)
    if depth > MAX_DEPTH then return depth_problem(enc_stack, depth - 1) end
    enc_stack[depth] = t
    local n = rawlen(t)
    local count, ints, strs = 0, 0, 0
    local keys
    if n > 0 then
      -- Most likely an array: count the keys, then check 1..n while writing.
      for k in next, t do
        count = count + 1
        if type(k) ~= "string" and mtype(k) ~= "integer" then return key_problem(k) end
      end
      if count == n then
        local mark = np
        put_header(n, 0x90, 0xdc, 0xdd)
        local holes = false
        for i = 1, n do
          local v = rawget(t, i)
          if v == nil then holes = true; break end
          local why = enc_value(v, depth + 1)
          if why then return why end
        end
        if not holes then
          enc_stack[depth] = nil
          return nil
        end
        np = mark -- not 1..n after all: write a map instead
      end
    end
    keys = {}
    count = 0
    for k in next, t do
      if type(k) == "string" then
        strs = 1
      elseif mtype(k) == "integer" then
        ints = 1
      else
        return key_problem(k)
      end
      count = count + 1
      keys[count] = k
    end
    if count == 0 then
      put(BYTE[0x90])
      enc_stack[depth] = nil
      return nil
    end
    sort_keys(keys, ints + 2 * strs)
    put_header(count, 0x80, 0xde, 0xdf)
    for i = 1, count do
      local k = keys[i]
      if ints == 1 and mtype(k) == "integer" then put_int(k)
      else
        local why = put_string(k)
        if why then return why end
      end
      local why = enc_value(rawget(t, k), depth + 1)
      if why then return why end
    end
    enc_stack[depth] = nil
    return nil
  end

  local function enc_error(e, depth)
    if depth > MAX_DEPTH then return depth_problem(enc_stack, depth - 1) end
    local kind, message, retryable, details = error_fields(e)
    local why = error_problem(kind, message, retryable, details)
    if why then return why end
    local mark = np
    local size = 2 + (retryable ~= nil and 1 or 0) + (details ~= nil and 1 or 0)
    put(BYTE[0x80 + size])
    -- keys in encoder order: details, kind, message, retryable
    if details ~= nil then
      put("\167details")
      enc_stack[depth] = e
      why = enc_table(details, depth + 1)
      enc_stack[depth] = nil
      if why then return why end
    end
    put("\164kind")
    why = put_string(kind)
    if why then return why end
    put("\167message")
    why = put_string(message)
    if why then return why end
    if retryable ~= nil then
      put("\169retryable")
      put(retryable and "\195" or "\194")
    end
    local data = concat(parts, "", mark + 1, np)
    np = mark
    local len = #data
    if len == 1 then put("\212\1")
    elseif len == 2 then put("\213\1")
    elseif len == 4 then put("\214\1")
    elseif len == 8 then put("\215\1")
    elseif len == 16 then put("\216\1")
    elseif len < 0x100 then put(spack(">BI1B", 0xc7, len, 1))
    elseif len < 0x10000 then put(spack(">BI2B", 0xc8, len, 1))
    else put(spack(">BI4B", 0xc9, len, 1)) end
    put(data)
    return nil
  end

  -- Encodes any value at `depth` (the depth it has if it is a container); returns nil or a problem.
  enc_value = function(v, depth)
    local tv = type(v)
    if tv == "string" then
      return put_string(v)
    elseif tv == "number" then
      if mtype(v) == "integer" then put_int(v) else put(spack(">Bd", 0xcb, v)) end
      return nil
    elseif tv == "boolean" then
      put(v and "\195" or "\194")
      return nil
    elseif tv == "nil" then
      put("\192")
      return nil
    elseif tv == "table" and getmt(v) == nil then
      return enc_table(v, depth)
    elseif is_error(v) then
      return enc_error(v, depth)
    elseif tv == "table" or tv == "userdata" then
      local ok, inner = unwrap(v)
      if ok then return enc_value(inner, depth) end
    end
    return unsendable(v)
  end

  -- msgpack bytes of v, or nil and a problem (a string).
  function codec.encode(v)
    local tv = type(v)
    -- Scalars take a short path without the buffer.
    if tv == "nil" then return "\192" end
    if tv == "boolean" then return v and "\195" or "\194" end
    -- One buffer serves every call; a call made while another is running (a hook that
    -- encodes) gets its own.
    local saved_parts, saved_np = parts, np
    if saved_parts == buffer then
      parts, np = {}, 0
    else
      parts, np = buffer, 0
    end
    local why = enc_value(v, 1)
    local out
    if why then
      for i = #enc_stack, 1, -1 do enc_stack[i] = nil end
    else
      out = concat(parts, "", 1, np)
    end
    if parts == buffer and (why or np > 64 or #out > 4096) then
      buffer = {} -- do not keep many or large strings alive
    end
    parts, np = saved_parts, saved_np
    if why then return nil, why end
    return out
  end

  ---------------------------------------------------------------------------
  -- decode
  ---------------------------------------------------------------------------

  local function fail(pos, what)
    error("malformed msgpack at byte " .. pos .. ": " .. what, 0)
  end

  local data, dlen -- the string being decoded
  local dec

  local function need(pos, n, what)
    if pos + n - 1 > dlen then fail(pos, "truncated " .. what) end
  end

  local function dec_str(pos, n, start)
    need(start, n, "string")
    return ssub(data, start, start + n - 1), start + n
  end

  local function dec_array(pos, n, start, depth)
    if depth > MAX_DEPTH then fail(pos, MSG_DEPTH) end
    local t = {}
    local p = start
    for i = 1, n do
      local v
      v, p = dec(p, depth + 1)
      t[i] = v
    end
    return t, p
  end

  local function dec_map(pos, n, start, depth)
    if depth > MAX_DEPTH then fail(pos, MSG_DEPTH) end
    local t = {}
    local p = start
    for _ = 1, n do
      local kpos = p
      local k, v
      k, p = dec(p, depth + 1)
      if type(k) ~= "string" and mtype(k) ~= "integer" then
        fail(kpos, "map key of type " .. (type(k) == "number" and "float" or type(k)))
      end
      v, p = dec(p, depth + 1)
      t[k] = v
    end
    return t, p
  end

  local function dec_ext(pos, etype, n, start, depth)
    need(start, n, "extension")
    if etype ~= 1 then fail(pos, "unknown extension type " .. etype) end
    if depth > MAX_DEPTH then fail(pos, MSG_DEPTH) end
    local b = n > 0 and sbyte(data, start)
    if not b or not ((b >= 0x80 and b <= 0x8f) or b == 0xde or b == 0xdf) then
      fail(start, "error object is not a map")
    end
    -- The map is the error object itself (one level); its details are one level below. The
    -- map must end exactly where the extension data ends.
    local stop = start + n
    local saved_len = dlen
    dlen = stop - 1
    local m, p = dec(start, depth)
    dlen = saved_len
    if p ~= stop then fail(start, "error object is shorter than its extension") end
    local kind, message, retryable, details = m.kind, m.message, m.retryable, m.details
    local why = error_problem(kind, message, retryable, details)
    if why then fail(start, why) end
    for k in next, m do
      if k ~= "kind" and k ~= "message" and k ~= "retryable" and k ~= "details" then
        fail(start, "error object has an unknown field " .. tostring(k))
      end
    end
    return make_error(kind, message, retryable, details), stop
  end

  -- Decodes the value starting at byte `pos`; `depth` is its depth if it is a container.
  -- Returns the value and the position after it.
  dec = function(pos, depth)
    local b = sbyte(data, pos)
    if b == nil then fail(pos, "unexpected end of data") end
    local p = pos + 1
    if b < 0x80 then return b, p end
    if b >= 0xe0 then return b - 256, p end
    if b < 0x90 then return dec_map(pos, b - 0x80, p, depth) end
    if b < 0xa0 then return dec_array(pos, b - 0x90, p, depth) end
    if b < 0xc0 then return dec_str(pos, b - 0xa0, p) end
    if b == 0xc0 then return nil, p end
    if b == 0xc2 then return false, p end
    if b == 0xc3 then return true, p end
    if b == 0xcb then need(p, 8, "float64"); return sunpack(">d", data, p) end
    if b == 0xca then need(p, 4, "float32"); return sunpack(">f", data, p) end
    if b == 0xcc then need(p, 1, "uint8"); return sbyte(data, p), p + 1 end
    if b == 0xcd then need(p, 2, "uint16"); return sunpack(">I2", data, p) end
    if b == 0xce then need(p, 4, "uint32"); return sunpack(">I4", data, p) end
    if b == 0xcf then
      need(p, 8, "uint64")
      local v, q = sunpack(">i8", data, p)
      if v < 0 then fail(pos, "integer does not fit in 64 signed bits") end
      return v, q
    end
    if b == 0xd0 then need(p, 1, "int8"); return sunpack(">i1", data, p) end
    if b == 0xd1 then need(p, 2, "int16"); return sunpack(">i2", data, p) end
    if b == 0xd2 then need(p, 4, "int32"); return sunpack(">i4", data, p) end
    if b == 0xd3 then need(p, 8, "int64"); return sunpack(">i8", data, p) end
    if b == 0xd9 or b == 0xc4 then need(p, 1, "length"); return dec_str(pos, sbyte(data, p), p + 1) end
    if b == 0xda or b == 0xc5 then
      need(p, 2, "length")
      return dec_str(pos, sunpack(">I2", data, p), p + 2)
    end
    if b == 0xdb or b == 0xc6 then
      need(p, 4, "length")
      return dec_str(pos, sunpack(">I4", data, p), p + 4)
    end
    if b == 0xdc then need(p, 2, "length"); return dec_array(pos, sunpack(">I2", data, p), p + 2, depth) end
    if b == 0xdd then need(p, 4, "length"); return dec_array(pos, sunpack(">I4", data, p), p + 4, depth) end
    if b == 0xde then need(p, 2, "length"); return dec_map(pos, sunpack(">I2", data, p), p + 2, depth) end
    if b == 0xdf then need(p, 4, "length"); return dec_map(pos, sunpack(">I4", data, p), p + 4, depth) end
    if b >= 0xd4 and b <= 0xd8 then -- fixext 1, 2, 4, 8, 16
      need(p, 1, "extension type")
      return dec_ext(pos, sunpack(">i1", data, p), 1 << (b - 0xd4), p + 1, depth)
    end
    if b == 0xc7 then
      need(p, 2, "extension header")
      local n, t = sunpack(">I1i1", data, p)
      return dec_ext(pos, t, n, p + 2, depth)
    end
    if b == 0xc8 then
      need(p, 3, "extension header")
      local n, t = sunpack(">I2i1", data, p)
      return dec_ext(pos, t, n, p + 3, depth)
    end
    if b == 0xc9 then
      need(p, 5, "extension header")
      local n, t = sunpack(">I4i1", data, p)
      return dec_ext(pos, t, n, p + 5, depth)
    end
    fail(pos, string.format("unknown format byte 0x%02x", b))
  end

  -- The Lua value of the msgpack bytes `s`; raises an error (a string) on malformed input.
  function codec.decode(s)
    if type(s) ~= "string" then error("msgpack data must be a string, got " .. type(s), 2) end
    local saved_data, saved_len = data, dlen
    data, dlen = s, #s
    local ok, v, p = pcall(dec, 1, 1)
    data, dlen = saved_data, saved_len
    if not ok then error(v, 0) end
    if p <= #s then
      error("malformed msgpack at byte " .. p .. ": " .. (#s - p + 1) .. " trailing bytes", 0)
    end
    return v
  end

  return codec
end
