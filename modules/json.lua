-- The `json` module (docs/reference/lua-modules.md, "json").
--
-- A trusted chunk called with (K, H); see docs/design.md. Pure Lua and deterministic: equal
-- values always encode to equal text.
--
-- json.encode(v) -> string | nil, err (kind Internal)
--   * nil -> null; booleans; integers as integers; NaN and ±Inf -> null;
--   * other floats: the shortest of %.15g / %.16g / %.17g that reads back as the same float, with
--     ".0" added when that text has neither a fraction nor an exponent, so a float stays a float
--     (2.0 -> "2.0", 0.1 -> "0.1", 1e300 -> "1e+300");
--   * strings: `"` and `\` escaped, \b \f \n \r \t, other control characters as \u00xx; UTF-8
--     is written as is (no \u escapes); a string that is not valid UTF-8 is an error;
--   * a table with keys exactly 1..n (n >= 1) -> array; the empty table -> []; a table with only
--     string keys -> object, keys sorted bytewise; anything else is an error (mixed keys, sparse
--     integer keys, keys of other types);
--   * a table with a metatable is encoded by its raw contents, unless it is a runtime object (an
--     error object, or a table whose metatable is protected by `__metatable`: Time, channel,
--     payload...), which is unsupported like functions, threads and userdata;
--   * cycles and nesting deeper than 128 tables are errors.
--
-- json.decode(s) -> value, nil | nil, err
--   * err kind Invalid for a non-string or an empty string, Internal for malformed JSON (the
--     message names the byte position, counted from 1);
--   * strict RFC 8259: no comments, no trailing commas, no NaN, no leading zeros, no raw control
--     characters in strings; the text must be valid UTF-8; whitespace around the value only;
--   * null -> nil (array elements leave holes, object members are omitted); numbers without
--     fraction or exponent that fit in int64 are integers, all others floats; \uXXXX escapes
--     (surrogate pairs included) become UTF-8, a lone surrogate is an error; a repeated object key
--     keeps its last value; nesting deeper than 128 arrays/objects is an error.

local K = ...

local type, next, error, pcall, ipairs, tonumber, rawlen, rawget, setmetatable =
  type, next, error, pcall, ipairs, tonumber, rawlen, rawget, setmetatable
local getmt = debug.getmetatable
local mtype, huge = math.type, math.huge
local sbyte, schar, sfind, sformat, sgsub, ssub = string.byte, string.char, string.find,
  string.format, string.gsub, string.sub
local concat, sort = table.concat, table.sort
local utf8len, utf8char = utf8.len, utf8.char

local MAX_DEPTH = 128

local json = {}

-- Failures inside encode/decode are raised as a table with this metatable and turned into
-- returned error objects at the API boundary; anything else raised (the scheduler's kill signal)
-- passes through untouched.
local FAIL_MT = {}
local function fail(message) error(setmetatable({message}, FAIL_MT), 0) end

local function protect(fn, ...)
  local ok, v = pcall(fn, ...)
  if ok then return true, v end
  if getmt(v) == FAIL_MT then return false, v[1] end
  error(v, 0)
end

-- object keys sort in the codec's bytewise order (plain `<` under the "C" collation)
local bytewise_lt = K.codec.bytewise_lt

-------------------------------------------------------------------------------
-- encode
-------------------------------------------------------------------------------

local ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
                 ["\r"] = "\\r", ["\t"] = "\\t"}
for i = 0, 31 do
  local c = schar(i)
  if not ESCAPES[c] then ESCAPES[c] = sformat("\\u%04x", i) end
end
local NEEDS_ESCAPE = "[\0-\31\"\\]"

local function type_name(v)
  local tv = type(v)
  if tv == "table" or tv == "userdata" then
    local mt = getmt(v)
    local name = mt and rawget(mt, "__name")
    if type(name) == "string" then return name end
  end
  return tv
end

local function float_text(v)
  local s = sformat("%.15g", v)
  if tonumber(s) ~= v then
    s = sformat("%.16g", v)
    if tonumber(s) ~= v then s = sformat("%.17g", v) end
  end
  if not sfind(s, "[%.eE]") then s = s .. ".0" end
  return s
end

local function put_string(buf, s)
  if not utf8len(s) then fail("json.encode: cannot encode a string that is not valid UTF-8") end
  if sfind(s, NEEDS_ESCAPE) then s = sgsub(s, NEEDS_ESCAPE, ESCAPES) end
  buf[#buf + 1] = '"'
  buf[#buf + 1] = s
  buf[#buf + 1] = '"'
end

-- Whether a table is data: no metatable, or one that is not a runtime object's (those hide their
-- metatable behind `__metatable`).
local function plain_data(t)
  local mt = getmt(t)
  return mt == nil or (rawget(mt, "__metatable") == nil and not K.is_error(t))
end

local put_value

local function put_table(buf, t, depth, onpath)
  if depth > MAX_DEPTH then
    fail("json.encode: value is nested deeper than " .. MAX_DEPTH .. " levels")
  end
  if onpath[t] then fail("json.encode: cannot encode a table that contains itself") end
  if next(t) == nil then
    buf[#buf + 1] = "[]"
    return
  end
  onpath[t] = true
  local n = rawlen(t)
  local count, ints, strs = 0, 0, 0
  for k in next, t do
    count = count + 1
    if type(k) == "string" then
      strs = strs + 1
    elseif mtype(k) == "integer" then
      ints = ints + 1
    else
      fail("json.encode: cannot encode a table key of type "
        .. (type(k) == "number" and "float" or type_name(k)))
    end
  end
  if strs == 0 then
    -- Only integer keys: they must be exactly 1..n.
    if count ~= n then fail("json.encode: cannot encode a sparse array (keys must be 1..n)") end
    for i = 1, n do
      if rawget(t, i) == nil then
        fail("json.encode: cannot encode a sparse array (keys must be 1..n)")
      end
    end
    buf[#buf + 1] = "["
    for i = 1, n do
      if i > 1 then buf[#buf + 1] = "," end
      put_value(buf, rawget(t, i), depth + 1, onpath)
    end
    buf[#buf + 1] = "]"
  elseif ints == 0 then
    local keys, nk = {}, 0
    for k in next, t do
      nk = nk + 1
      keys[nk] = k
    end
    sort(keys, bytewise_lt)
    buf[#buf + 1] = "{"
    for i = 1, nk do
      local k = keys[i]
      if i > 1 then buf[#buf + 1] = "," end
      put_string(buf, k)
      buf[#buf + 1] = ":"
      put_value(buf, rawget(t, k), depth + 1, onpath)
    end
    buf[#buf + 1] = "}"
  else
    fail("json.encode: cannot encode a table with both string and integer keys")
  end
  onpath[t] = nil
end

put_value = function(buf, v, depth, onpath)
  local tv = type(v)
  if tv == "string" then
    put_string(buf, v)
  elseif tv == "number" then
    if mtype(v) == "integer" then
      buf[#buf + 1] = sformat("%d", v)
    elseif v ~= v or v == huge or v == -huge then
      buf[#buf + 1] = "null"
    else
      buf[#buf + 1] = float_text(v)
    end
  elseif tv == "boolean" then
    buf[#buf + 1] = v and "true" or "false"
  elseif tv == "nil" then
    buf[#buf + 1] = "null"
  elseif tv == "table" and plain_data(v) then
    put_table(buf, v, depth, onpath)
  else
    fail("json.encode: cannot encode a value of type " .. type_name(v))
  end
end

local function encode(v)
  local buf = {}
  put_value(buf, v, 1, {})
  return concat(buf)
end

-- The JSON text of `v`: `string, nil` or `nil, err` (kind Internal).
function json.encode(v)
  local ok, r = protect(encode, v)
  if ok then return r, nil end
  return nil, K.error("Internal", r, false)
end

-------------------------------------------------------------------------------
-- decode
-------------------------------------------------------------------------------

local src -- the text being decoded

local function describe(pos)
  local c = sbyte(src, pos)
  if c == nil then return "unexpected end of input" end
  if c >= 32 and c < 127 then return sformat("unexpected character '%s'", schar(c)) end
  return sformat("unexpected byte 0x%02x", c)
end

local function fail_at(pos, what)
  fail("json.decode: " .. (what or describe(pos)) .. " at position " .. pos)
end

local function skip(pos)
  local _, e = sfind(src, "^[ \t\r\n]*", pos)
  return e + 1
end

local SIMPLE = {[34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n",
                [114] = "\r", [116] = "\t"}

local function hex4(pos)
  local h = ssub(src, pos, pos + 3)
  if not sfind(h, "^%x%x%x%x$") then fail_at(pos, "bad \\u escape") end
  return tonumber(h, 16)
end

-- The string starting at the quote at `pos`; returns it and the position after the closing quote.
local function dec_string(pos)
  local i = pos + 1
  local buf, nb = nil, 0
  while true do
    local a = sfind(src, '["\\\0-\31]', i)
    if not a then fail_at(pos, "unterminated string") end
    local c = sbyte(src, a)
    if c == 34 then
      if not buf then return ssub(src, i, a - 1), a + 1 end
      buf[nb + 1] = ssub(src, i, a - 1)
      return concat(buf, "", 1, nb + 1), a + 1
    elseif c == 92 then
      buf = buf or {}
      nb = nb + 1
      buf[nb] = ssub(src, i, a - 1)
      local e = sbyte(src, a + 1)
      local simple = SIMPLE[e]
      nb = nb + 1
      if simple then
        buf[nb] = simple
        i = a + 2
      elseif e == 117 then -- u
        local cp = hex4(a + 2)
        i = a + 6
        if cp >= 0xD800 and cp <= 0xDBFF then
          if ssub(src, i, i + 1) ~= "\\u" then fail_at(a, "lone surrogate in \\u escape") end
          local lo = hex4(i + 2)
          if lo < 0xDC00 or lo > 0xDFFF then fail_at(a, "lone surrogate in \\u escape") end
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
          i = i + 6
        elseif cp >= 0xDC00 and cp <= 0xDFFF then
          fail_at(a, "lone surrogate in \\u escape")
        end
        buf[nb] = utf8char(cp)
      else
        fail_at(a, "bad escape in string")
      end
    else
      fail_at(a, "control character in string")
    end
  end
end

local function dec_number(pos)
  local i = pos
  local float = false
  if sbyte(src, i) == 45 then i = i + 1 end -- -
  local c = sbyte(src, i)
  if c == 48 then -- 0
    i = i + 1
  elseif c and c >= 49 and c <= 57 then
    local _, e = sfind(src, "^%d*", i + 1)
    i = e + 1
  else
    fail_at(i)
  end
  if sbyte(src, i) == 46 then -- .
    local _, e = sfind(src, "^%d+", i + 1)
    if not e then fail_at(i + 1, "digit expected after '.'") end
    i = e + 1
    float = true
  end
  c = sbyte(src, i)
  if c == 101 or c == 69 then -- e E
    i = i + 1
    c = sbyte(src, i)
    if c == 43 or c == 45 then i = i + 1 end
    local _, e = sfind(src, "^%d+", i)
    if not e then fail_at(i, "digit expected in exponent") end
    i = e + 1
    float = true
  end
  local v = tonumber(ssub(src, pos, i - 1))
  if float and mtype(v) == "integer" then v = v + 0.0 end
  return v, i
end

local dec_value

local function dec_array(pos, depth)
  if depth > MAX_DEPTH then fail_at(pos, "value is nested deeper than " .. MAX_DEPTH .. " levels") end
  local t, n = {}, 0
  local i = skip(pos + 1)
  if sbyte(src, i) == 93 then return t, i + 1 end -- ]
  while true do
    local v
    v, i = dec_value(i, depth + 1)
    n = n + 1
    t[n] = v
    i = skip(i)
    local c = sbyte(src, i)
    if c == 93 then return t, i + 1 end
    if c ~= 44 then fail_at(i, c and describe(i) .. ", expected ',' or ']'") end
    i = skip(i + 1)
  end
end

local function dec_object(pos, depth)
  if depth > MAX_DEPTH then fail_at(pos, "value is nested deeper than " .. MAX_DEPTH .. " levels") end
  local t = {}
  local i = skip(pos + 1)
  if sbyte(src, i) == 125 then return t, i + 1 end -- }
  while true do
    if sbyte(src, i) ~= 34 then
      fail_at(i, sbyte(src, i) and describe(i) .. ", expected a string key")
    end
    local k, v
    k, i = dec_string(i)
    i = skip(i)
    if sbyte(src, i) ~= 58 then fail_at(i, sbyte(src, i) and describe(i) .. ", expected ':'") end
    v, i = dec_value(skip(i + 1), depth + 1)
    t[k] = v
    i = skip(i)
    local c = sbyte(src, i)
    if c == 125 then return t, i + 1 end
    if c ~= 44 then fail_at(i, c and describe(i) .. ", expected ',' or '}'") end
    i = skip(i + 1)
  end
end

local LITERALS = {[116] = {"true", true}, [102] = {"false", false}, [110] = {"null", nil}}

-- The value starting at `pos` (no leading whitespace); returns it and the position after it.
dec_value = function(pos, depth)
  local c = sbyte(src, pos)
  if c == 34 then return dec_string(pos) end
  if c == 123 then return dec_object(pos, depth) end
  if c == 91 then return dec_array(pos, depth) end
  if c == 45 or (c and c >= 48 and c <= 57) then return dec_number(pos) end
  local lit = LITERALS[c]
  if lit and ssub(src, pos, pos + #lit[1] - 1) == lit[1] then return lit[2], pos + #lit[1] end
  fail_at(pos)
end

local function decode(s)
  local ok, bad = utf8len(s)
  if not ok then fail_at(bad, "invalid UTF-8") end
  local v, i = dec_value(skip(1), 1)
  i = skip(i)
  if i <= #s then fail_at(i, describe(i) .. " after the value") end
  return v
end

-- The Lua value of the JSON text `s`: `value, nil` or `nil, err`.
function json.decode(s)
  if type(s) ~= "string" then
    return nil, K.error("Invalid", "json.decode: expected a string, got " .. type_name(s), false)
  end
  if s == "" then return nil, K.error("Invalid", "json.decode: empty string", false) end
  src = s
  local ok, r = protect(decode, s)
  src = nil
  if ok then return r, nil end
  return nil, K.error("Internal", r, false)
end

for _, name in ipairs{"validate", "validate_string"} do
  local message = "json." .. name .. " is not supported by this orrery build"
  json[name] = function() K.invalid(message) end
end

return json
