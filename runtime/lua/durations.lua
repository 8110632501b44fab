-- orrery durations: Go's duration syntax, exactly (int64 nanoseconds).
--
-- Trusted code, called with (K) after the kernel is loaded (docs/design.md). It defines
-- K.parse_duration (Go's time.ParseDuration) and K.option_duration (a duration string or a
-- number of milliseconds, the form option tables take). The time module and the host
-- operations use these; runtime/_durations.py is the Python side, and both are checked
-- against the same golden vectors (tests/golden/durations.json).

local K = ...

local math_tointeger, math_floor, math_ult = math.tointeger, math.floor, math.ult
local string_byte, string_sub = string.byte, string.sub
local type, tostring = type, tostring
local MAXINT, MININT = math.maxinteger, math.mininteger

local NANOSECOND, MICROSECOND, MILLISECOND = 1, 1000, 1000000
local SECOND = 1000000000
local MINUTE, HOUR = 60 * SECOND, 3600 * SECOND

-- An unsigned 64-bit integer as a float.
local function u2f(x)
  if x < 0 then return (x + 0.0) + 18446744073709551616.0 end
  return x + 0.0
end

local UNITS = {
  ["ns"] = NANOSECOND,
  ["us"] = MICROSECOND,
  ["\u{B5}s"] = MICROSECOND, -- U+00B5 MICRO SIGN
  ["\u{3BC}s"] = MICROSECOND, -- U+03BC GREEK SMALL LETTER MU
  ["ms"] = MILLISECOND,
  ["s"] = SECOND,
  ["m"] = MINUTE,
  ["h"] = HOUR,
}

local B_0, B_9, B_DOT, B_MINUS, B_PLUS = 48, 57, 46, 45, 43
local LEADING_INT_LIMIT = (MAXINT // 10) -- floor(2^63 / 10); 2^63 is not a multiple of 10

-- Parses `s` like Go's time.ParseDuration: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or "0".
-- Returns integer nanoseconds, or nil and an error message. Accumulates the magnitude as an
-- unsigned 64-bit value (compared with math.ult) so that "-2562047h47m16.854775808s" parses.
local function parse_go_duration(orig)
  local function bad(why)
    return nil, "time: " .. why .. ' "' .. orig .. '"'
  end
  local s, i, n = orig, 1, #orig
  local neg = false
  if n > 0 then
    local c = string_byte(s, 1)
    if c == B_MINUS or c == B_PLUS then
      neg = c == B_MINUS
      i = 2
    end
  end
  if string_sub(s, i) == "0" then return 0 end
  if i > n then return bad("invalid duration") end
  local d = 0
  while i <= n do
    local c = string_byte(s, i)
    if not (c == B_DOT or (c >= B_0 and c <= B_9)) then return bad("invalid duration") end
    -- integer part
    local v, start = 0, i
    while i <= n do
      c = string_byte(s, i)
      if c < B_0 or c > B_9 then break end
      if math_ult(LEADING_INT_LIMIT, v) then return bad("invalid duration") end
      v = v * 10 + (c - B_0)
      if math_ult(MININT, v) then return bad("invalid duration") end
      i = i + 1
    end
    local pre = i ~= start
    -- fraction
    local f, scale, post = 0, 1.0, false
    if i <= n and string_byte(s, i) == B_DOT then
      i = i + 1
      local fstart, overflow = i, false
      while i <= n do
        c = string_byte(s, i)
        if c < B_0 or c > B_9 then break end
        if not overflow then
          if math_ult(LEADING_INT_LIMIT, f) then
            overflow = true
          else
            local y = f * 10 + (c - B_0)
            if math_ult(MININT, y) then
              overflow = true
            else
              f, scale = y, scale * 10
            end
          end
        end
        i = i + 1
      end
      post = i ~= fstart
    end
    if not pre and not post then return bad("invalid duration") end
    -- unit: everything up to the next '.' or digit
    local ustart = i
    while i <= n do
      c = string_byte(s, i)
      if c == B_DOT or (c >= B_0 and c <= B_9) then break end
      i = i + 1
    end
    if i == ustart then return bad("missing unit in duration") end
    local u = string_sub(s, ustart, i - 1)
    local unit = UNITS[u]
    if unit == nil then
      return nil, 'time: unknown unit "' .. u .. '" in duration "' .. orig .. '"'
    end
    if unit > 1 and math_ult(MAXINT // unit, v) then return bad("invalid duration") end
    v = v * unit
    if f ~= 0 then
      -- float64 keeps fractions of hours nanosecond-accurate (the same order of operations as Go)
      v = v + math_tointeger(math_floor(u2f(f) * (unit / scale)))
      if math_ult(MININT, v) then return bad("invalid duration") end
    end
    local sum = d + v
    -- Go lets the uint64 sum wrap past 2^64 here; orrery reports the overflow instead.
    if math_ult(sum, d) or math_ult(MININT, sum) then return bad("invalid duration") end
    d = sum
  end
  if neg then return -d end -- -(2^63) wraps to math.mininteger, which is what we want
  if d < 0 then return bad("invalid duration") end -- 2^63 does not fit a positive int64
  return d
end


-- Parses a Go duration string ("1h30m", "250ms", "-1.5s") into integer nanoseconds;
-- returns nil, message when it is not one (the message starts with "time: ", as Go's).
function K.parse_duration(s)
  if type(s) ~= "string" then return nil, "time: invalid duration " .. tostring(s) end
  return parse_go_duration(s)
end

-- Option durations: a duration string, or a number of MILLISECONDS.
-- Returns integer nanoseconds or nil, message.
-- Out of range (beyond Go's time.Duration, about 292 years) and NaN are errors: they would
-- otherwise wrap around or reach the host's timer as a deadline it cannot hold.
local MAX_MS = math.maxinteger // 1000000
function K.option_duration(v)
  if math.type(v) == "integer" then
    if v > MAX_MS or v < -MAX_MS then
      return nil, v .. " ms is out of range (at most " .. MAX_MS .. " ms)"
    end
    return v * 1000000
  end
  if type(v) == "number" then
    if v ~= v then return nil, "a duration cannot be NaN" end
    local ns = math.floor(v * 1000000)
    local i = math.tointeger(ns)
    if not i or ns >= 9.2e18 or ns <= -9.2e18 then
      return nil, tostring(v) .. " ms is out of range (at most " .. MAX_MS .. " ms)"
    end
    return i
  end
  if type(v) == "string" then return K.parse_duration(v) end
  return nil, "expected a duration string or a number of milliseconds, got " .. type(v)
end

return true
