-- The `time` module (docs/reference/lua-modules.md, "time"): clocks, sleeping, timers, Time and
-- Duration values.
--
-- A trusted chunk called with (K, H); see docs/design.md. Every clock reading and every wait goes
-- through the host (`H.now`, `H.sleep`, `H.timer`), so the same code is deterministic inside a
-- workflow. Bare numbers are NANOSECONDS here (README, "Durations").
--
-- Representation: a Time is `{[NS] = <integer Unix nanoseconds>}` and a Duration is
-- `{[NS] = <integer nanoseconds>}`, each with one shared metatable; NS is a private key table, so
-- `t.x = v` always reaches `__newindex` (which raises) and the value is out of reach of ordinary
-- field syntax. `__metatable` hides the real metatable. (Code that digs the key out with `next`
-- and writes it back can still change its own object: nothing in the runtime trusts these
-- values, and they are never shared between processes.) The int64 range limits Times to the
-- years 1677..2262, like Go's `UnixNano`.

local K, H = ...

local type, rawget, setmetatable, getmetatable = type, rawget, setmetatable, getmetatable
local tostring = tostring
local math_type, math_tointeger, math_floor, math_ceil =
  math.type, math.tointeger, math.floor, math.ceil
local string_byte, string_sub, string_format = string.byte, string.sub, string.format
local ipairs = ipairs

local MAXINT, MININT = math.maxinteger, math.mininteger

local NANOSECOND = 1
local MICROSECOND = 1000
local MILLISECOND = 1000000
local SECOND = 1000000000
local MINUTE = 60 * SECOND
local HOUR = 60 * MINUTE

local NS = {} -- the private key of the one field
local TIME_TAG = "time.Time"
local DURATION_TAG = "time.Duration"

local function invalid_error(message)
  return K.error("Invalid", message, false)
end

local function unsupported(name)
  return function()
    K.invalid(name .. " is not supported by this orrery build")
  end
end

-- Metatables and constructors ------------------------------------------------------------------

local time_methods, duration_methods = {}, {}
local TIME_MT = {__metatable = TIME_TAG, __name = "Time", __index = time_methods}
local DURATION_MT = {__metatable = DURATION_TAG, __name = "Duration", __index = duration_methods}

local function new_time(ns)
  return setmetatable({[NS] = ns}, TIME_MT)
end

local function new_duration(ns)
  return setmetatable({[NS] = ns}, DURATION_MT)
end

-- `getmetatable` answers the `__metatable` tag, so a table is taken for a Time when it carries the
-- tag and an integer under NS. A user table forged that way only ever behaves like a valid Time.
local function is_time(v)
  return type(v) == "table" and getmetatable(v) == TIME_TAG and math_type(rawget(v, NS)) == "integer"
end

local function is_duration(v)
  return type(v) == "table" and getmetatable(v) == DURATION_TAG
    and math_type(rawget(v, NS)) == "integer"
end

local function kind_of(v)
  if is_time(v) then return "Time" end
  if is_duration(v) then return "Duration" end
  return type(v)
end

local function check_time(v, what)
  if not is_time(v) then
    K.invalid(what .. ": expected a Time, got " .. kind_of(v))
  end
  return v[NS]
end

local function check_duration(v, what)
  if not is_duration(v) then
    K.invalid(what .. ": expected a Duration, got " .. kind_of(v))
  end
  return v[NS]
end

-- Integer helpers -------------------------------------------------------------------------------

-- Division truncated toward zero (Go's `/` and `%`), for b > 0; safe for math.mininteger.
local function tdivmod(a, b)
  local q, r = a // b, a % b
  if r ~= 0 and a < 0 then
    q, r = q + 1, r - b
  end
  return q, r
end

-- a + b, or nil when the int64 sum overflows.
local function checked_add(a, b)
  local r = a + b
  if (b > 0 and r < a) or (b < 0 and r > a) then return nil end
  return r
end

-- Go duration strings ---------------------------------------------------------------------------

-- Go duration strings: K.parse_duration (runtime/lua/durations.lua).
local parse_go_duration = K.parse_duration
local B_0 = 48

-- Go's Duration.String(): "1h2m3.5s", "1.5ms", "1µs", "0s".
local function frac_string(u, prec)
  -- splits u into (u // 10^prec, ".ddd" with trailing zeros trimmed, or "")
  local p = 1
  for _ = 1, prec do p = p * 10 end
  local whole, frac = u // p, u % p
  if frac == 0 then return whole, "" end
  local digits = string_format("%0" .. prec .. "d", frac)
  local last = #digits
  while string_byte(digits, last) == B_0 do last = last - 1 end
  return whole, "." .. string_sub(digits, 1, last)
end

local function format_go_duration(ns)
  if ns == 0 then return "0s" end
  if ns == MININT then return "-2562047h47m16.854775808s" end
  local u, sign = ns, ""
  if u < 0 then u, sign = -u, "-" end
  if u < SECOND then
    local prec, unit
    if u < MICROSECOND then
      prec, unit = 0, "ns"
    elseif u < MILLISECOND then
      prec, unit = 3, "\u{B5}s"
    else
      prec, unit = 6, "ms"
    end
    local whole, frac = frac_string(u, prec)
    return sign .. whole .. frac .. unit
  end
  local secs, frac = frac_string(u, 9)
  local out = (secs % 60) .. frac .. "s"
  local mins = secs // 60
  if mins > 0 then
    out = (mins % 60) .. "m" .. out
    local hours = mins // 60
    if hours > 0 then out = hours .. "h" .. out end
  end
  return sign .. out
end

-- Duration arguments: a number of nanoseconds (floats truncated toward zero), a duration string
-- or a Duration. Returns integer nanoseconds, or nil and an Invalid error; raises for other types.
local function to_ns(v, what)
  local tv = type(v)
  if tv == "number" then
    local i = math_tointeger(v)
    if i then return i end
    if v ~= v or v >= 9223372036854775808.0 or v < -9223372036854775808.0 then
      return nil, invalid_error(what .. ": duration " .. tostring(v) .. " is out of range")
    end
    return math_tointeger(v >= 0 and math_floor(v) or math_ceil(v))
  elseif tv == "string" then
    local ns, message = parse_go_duration(v)
    if ns == nil then return nil, invalid_error(message) end
    return ns
  elseif is_duration(v) then
    return v[NS]
  end
  K.invalid(what .. ": expected a duration (nanoseconds, duration string or Duration), got "
    .. kind_of(v))
end

-- Calendar (UTC only) ---------------------------------------------------------------------------

-- Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
local function civil_from_days(z)
  z = z + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local day = doy - (153 * mp + 2) // 5 + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400
  if month <= 2 then year = year + 1 end
  return year, month, day
end

-- RFC 3339 in UTC; with `nano`, Go's RFC3339Nano (fraction with trailing zeros trimmed).
local function format_rfc3339(ns, nano)
  local sec, frac = ns // SECOND, ns % SECOND
  local days, sod = sec // 86400, sec % 86400
  local y, mo, d = civil_from_days(days)
  local out = string_format("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, sod // 3600,
    sod % 3600 // 60, sod % 60)
  if nano and frac ~= 0 then
    local _, digits = frac_string(frac, 9)
    out = out .. digits
  end
  return out .. "Z"
end

-- Time -----------------------------------------------------------------------------------------

function time_methods.sub(self, u)
  local a = check_time(self, "Time:sub")
  local b = check_time(u, "Time:sub")
  local d = a - b
  -- saturate like Go's Time.Sub when t - u does not fit a Duration
  if a >= 0 and b < 0 and d < 0 then return new_duration(MAXINT) end
  if a < 0 and b >= 0 and d >= 0 then return new_duration(MININT) end
  return new_duration(d)
end

function time_methods.add(self, d)
  local a = check_time(self, "Time:add")
  local ns, err = to_ns(d, "Time:add")
  if ns == nil then return nil, err end
  local r = checked_add(a, ns)
  if r == nil then
    return nil, invalid_error("Time:add: result is outside the representable range "
      .. "(years 1677..2262)")
  end
  return new_time(r)
end

function time_methods.unix(self)
  return check_time(self, "Time:unix") // SECOND
end

function time_methods.unix_nano(self)
  return check_time(self, "Time:unix_nano")
end

function time_methods.before(self, u)
  return check_time(self, "Time:before") < check_time(u, "Time:before")
end

function time_methods.after(self, u)
  return check_time(self, "Time:after") > check_time(u, "Time:after")
end

function time_methods.equal(self, u)
  return check_time(self, "Time:equal") == check_time(u, "Time:equal")
end

function time_methods.format_rfc3339(self)
  return format_rfc3339(check_time(self, "Time:format_rfc3339"), false)
end

for _, name in ipairs{
  "format", "year", "month", "day", "hour", "minute", "second", "nanosecond", "weekday",
  "year_day", "date", "clock", "utc", "in_location", "location", "round", "truncate", "add_date",
} do
  time_methods[name] = unsupported("time.Time:" .. name)
end

TIME_MT.__tostring = function(self) return format_rfc3339(self[NS], true) end
TIME_MT.__eq = function(a, b)
  return is_time(a) and is_time(b) and a[NS] == b[NS]
end
TIME_MT.__lt = function(a, b) return check_time(a, "Time <") < check_time(b, "Time <") end
TIME_MT.__le = function(a, b) return check_time(a, "Time <=") <= check_time(b, "Time <=") end
TIME_MT.__newindex = function() K.invalid("Time objects are immutable") end

-- Duration -------------------------------------------------------------------------------------

function duration_methods.nanoseconds(self)
  return check_duration(self, "Duration:nanoseconds")
end

function duration_methods.microseconds(self)
  return (tdivmod(check_duration(self, "Duration:microseconds"), MICROSECOND))
end

function duration_methods.milliseconds(self)
  return (tdivmod(check_duration(self, "Duration:milliseconds"), MILLISECOND))
end

-- Go computes the whole units and the remainder separately to keep precision.
local function float_units(ns, unit)
  local q, r = tdivmod(ns, unit)
  return q + r / unit
end

function duration_methods.seconds(self)
  return float_units(check_duration(self, "Duration:seconds"), SECOND)
end

function duration_methods.minutes(self)
  return float_units(check_duration(self, "Duration:minutes"), MINUTE)
end

function duration_methods.hours(self)
  return float_units(check_duration(self, "Duration:hours"), HOUR)
end

DURATION_MT.__tostring = function(self) return format_go_duration(self[NS]) end
DURATION_MT.__eq = function(a, b)
  return is_duration(a) and is_duration(b) and a[NS] == b[NS]
end
DURATION_MT.__lt = function(a, b)
  return check_duration(a, "Duration <") < check_duration(b, "Duration <")
end
DURATION_MT.__le = function(a, b)
  return check_duration(a, "Duration <=") <= check_duration(b, "Duration <=")
end
DURATION_MT.__newindex = function() K.invalid("Duration objects are immutable") end

-- Module functions -----------------------------------------------------------------------------

local time = {
  NANOSECOND = NANOSECOND,
  MICROSECOND = MICROSECOND,
  MILLISECOND = MILLISECOND,
  SECOND = SECOND,
  MINUTE = MINUTE,
  HOUR = HOUR,
}

function time.now()
  return new_time(H.now())
end

function time.sleep(d)
  local ns, err = to_ns(d, "time.sleep")
  if ns == nil then return nil, err end
  if ns <= 0 then return end
  local _, failure = H.sleep(ns)
  if failure ~= nil then return nil, failure end
end

function time.after(d)
  local ns, err = to_ns(d, "time.after")
  if ns == nil then return nil, err end
  if ns <= 0 then
    -- delivered at once, without a host timer (a zero-length durable timer would be useless
    -- history in a workflow)
    local ch = K.new_channel(1)
    ch:send(new_time(H.now()))
    ch:close()
    return ch
  end
  return H.timer(ns, new_time)
end

function time.parse_duration(v)
  if is_duration(v) then return v, nil end
  local ns, err = to_ns(v, "time.parse_duration")
  if ns == nil then return nil, err end
  return new_duration(ns), nil
end

local MAX_SEC, MAX_SEC_NSEC = MAXINT // SECOND, MAXINT % SECOND
local MIN_SEC, MIN_SEC_NSEC = MININT // SECOND, MININT % SECOND

local function integer_arg(v, what)
  local i = type(v) == "number" and math_tointeger(v)
  if not i then K.invalid(what .. " must be an integer, got " .. kind_of(v)) end
  return i
end

-- time.unix(sec [, nsec]): like Go's time.Unix; nsec outside [0, 1e9) is normalised.
function time.unix(sec, nsec)
  sec = integer_arg(sec, "time.unix: sec")
  nsec = nsec == nil and 0 or integer_arg(nsec, "time.unix: nsec")
  if nsec < 0 or nsec >= SECOND then
    local carry = nsec // SECOND
    -- an overflowing carry saturates; the range check below then rejects it
    sec = checked_add(sec, carry) or (carry > 0 and MAXINT or MININT)
    nsec = nsec % SECOND
  end
  if sec > MAX_SEC or sec < MIN_SEC
    or (sec == MAX_SEC and nsec > MAX_SEC_NSEC)
    or (sec == MIN_SEC and nsec < MIN_SEC_NSEC) then
    return nil, invalid_error("time.unix: time is outside the representable range "
      .. "(years 1677..2262)")
  end
  -- sec * SECOND may wrap for MIN_SEC; the final sum is in range, so modular arithmetic is exact
  return new_time(sec * SECOND + nsec), nil
end

for _, name in ipairs{"timer", "ticker", "date", "parse", "load_location", "fixed_zone"} do
  time[name] = unsupported("time." .. name)
end

return time
