-- orrery cwork: string / table / utf8 functions whose C work is charged to the budget.
--
-- Trusted code, called with (K) before the sandbox is installed (docs/sandbox.md,
-- "C library work"). Many library functions loop in C, where the instruction
-- budget's count hook cannot see them: string.rep("", math.maxinteger) or
-- table.move({}, 1, 2^62, 1) never end, and a loop of cheap-looking calls
-- (table.remove(t, 1) on a big table, s:upper() on a long string) runs for
-- seconds on a few VM instructions. Each wrapper here computes, from its
-- arguments and BEFORE the C function runs, the units of work the call implies
-- (bytes, elements moved, comparisons), and charges units * weight instruction
-- equivalents with K.charge. A charge bigger than what is left of the step's
-- budget raises the kill sentinel at once, so the C loop never starts.
--
-- The weights (W) are C nanoseconds per unit divided by nanoseconds per VM
-- instruction, measured by bench/cwork.py on the reference machine.
--
-- Results and errors are those of the C functions: each runs under pcall and a
-- failure is re-raised at the caller's line with the name the plain call would
-- give ('rep', or "calling 'rep' on bad self" for a method call). The charge
-- depends on the arguments only, so workflows replay identically.

local K = ...

local type, error, select, tostring, tonumber, pcall, rawget, rawlen =
  type, error, select, tostring, tonumber, pcall, rawget, rawlen
local rawmt = debug.getmetatable
local mtype, tointeger, floor, ult, maxinteger = math.type, math.tointeger, math.floor, math.ult, math.maxinteger
local sfind, smatch, sgmatch = string.find, string.match, string.gmatch

local charge = K.charge
local MEMERR = K.MEMERR

--- Instruction equivalents per unit of C work (bench/cwork.py measures them).
local W = {
  rep_iter = 1.5,        -- string.rep: per copy of (s .. sep)
  byte = 0.35,           -- bytes copied or scanned: rep, upper, lower, reverse, sub, format %s
  format_q = 18,         -- string.format with %q: per byte of string arguments (escapes)
  value = 1.2,           -- one value pushed or read: string.byte/char, utf8.char/codepoint
  utf8_byte = 0.8,       -- utf8.len / offset / codes: per byte decoded or scanned
  pack_byte = 0.7,       -- string.pack / unpack: per byte of format, data and padding
  elem = 3.5,            -- table.insert / remove / move / unpack / concat: per element
  meta_elem = 30,        -- the same through metamethods (C calls into Lua per element)
  concat_byte = 0.15,    -- table.concat: per byte of the result (charged after the call)
  sort_cmp = 10,         -- table.sort of numbers or strings: per n * log2(n)
  sort_fn_cmp = 16,      -- table.sort with a comparator (or __lt): per n * log2(n)
}

--- Charges below this many instruction equivalents are left to the wrapper's own
--- instructions (calling K.charge would cost more than the work).
local SMALL = 32
--- The largest charge passed to K.charge (more than any budget; avoids overflow).
local CAP = 1 << 50
--- lstrlib.c's MAXSIZE: longer results are refused by the C functions up front.
local MAXSIZE = 0x7fffffff
--- The C stack limit (LUAI_MAXSTACK): more results are refused up front.
local MAXSTACK = 1000000

local function pay(units, w)
  local ins = units * w
  if ins >= SMALL then
    if ins >= CAP then charge(CAP) else charge(floor(ins)) end
  end
end

-------------------------------------------------------------------------------
-- Errors
-------------------------------------------------------------------------------

-- Re-raises an error of a C function (or of a Lua replacement written like one)
-- that ran under pcall: its message has no location yet, and names the function
-- as 'string.rep' (pcall called it). `user` is true for functions that call user
-- code (metamethods, comparators): only their own messages (matching `own`) are
-- rewritten, the user's errors pass through unchanged.
local function raise(e, short, method, own)
  if type(e) ~= "string" or e == MEMERR then error(e, 0) end
  local argn, rest = smatch(e, "^bad argument #(%d+) to '[^']*' (.*)$")
  if argn then
    argn = tointeger(tonumber(argn))
    if method then
      if argn == 1 then error("calling '" .. short .. "' on bad self " .. rest, 3) end
      argn = argn - 1
    end
    error("bad argument #" .. argn .. " to '" .. short .. "' " .. rest, 3)
  end
  if own then
    for i = 1, #own do
      if sfind(e, own[i]) then error(e, 3) end
    end
    error(e, 0)
  end
  error(e, 3)
end

-- The value luaL_checklstring / luaL_checkinteger would take, or nil (then the
-- C function raises its argument error without doing any work).
local function str(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  return nil
end

local function int(v)
  if mtype(v) == "integer" then return v end
  local t = type(v)
  if t == "number" then return tointeger(v) end
  if t == "string" then
    local n = tonumber(v)
    return n and tointeger(n)
  end
  return nil
end

local function opt_int(v, default)
  if v == nil then return default end
  return int(v)
end

-- lstrlib.c posrelatI / getendpos
local function posrelat_i(pos, len)
  if pos > 0 then return pos end
  if pos == 0 then return 1 end
  if pos < -len then return 1 end
  return len + pos + 1
end

local function endpos(pos, len)
  if pos > len then return len end
  if pos >= 0 then return pos end
  if pos < -len then return 0 end
  return len + pos + 1
end

-- lutf8lib.c u_posrelat
local function u_posrelat(pos, len)
  if pos >= 0 then return pos end
  if -pos > len then return 0 end
  return len + pos + 1
end

-------------------------------------------------------------------------------
-- string
-------------------------------------------------------------------------------

local c = {
  rep = string.rep, upper = string.upper, lower = string.lower, reverse = string.reverse,
  byte = string.byte, char = string.char, sub = string.sub, format = string.format,
  pack = string.pack, unpack = string.unpack,
  concat = table.concat, insert = table.insert, remove = table.remove, move = table.move,
  sort = table.sort, unpack_t = table.unpack,
  uchar = utf8.char, ulen = utf8.len, codepoint = utf8.codepoint, offset = utf8.offset,
  codes = utf8.codes,
}
local c_rep, c_upper, c_lower, c_reverse, c_byte, c_char, c_sub, c_format, c_pack, c_sunpack =
  c.rep, c.upper, c.lower, c.reverse, c.byte, c.char, c.sub, c.format, c.pack, c.unpack

local function rep_cost(s, n, sep)
  s, n = str(s), int(n)
  if sep ~= nil then sep = str(sep) else sep = "" end
  if not (s and n and sep) or n <= 0 then return 0, false end
  local l = #s + #sep
  if l == 0 then return 0, true end               -- the result is "" whatever n is
  if l > MAXSIZE // n then return 0, false end    -- "resulting string too large", up front
  return n * W.rep_iter + (n * l) * W.byte, false
end

local FORMAT_OWN = {"^invalid ", "^'__tostring' must return a string", "^value has no literal form",
                    "^unable to ", "^invalid conversion"}
local PACK_DIGITS = "%d+"

local function pack_fmt_units(fmt)
  local units = #fmt
  if sfind(fmt, "%d") then
    for d in sgmatch(fmt, PACK_DIGITS) do
      local v = tonumber(d)
      if v == nil or v > CAP then return CAP end
      units = units + v
    end
  end
  return units
end

-- One set of string wrappers; `method` = true for the string metatable's methods
-- (("x"):rep(n) numbers its arguments from the one after self).
local function string_lib(method)
  local S = {}

  function S.rep(...)
    local units, empty = rep_cost(...)
    if empty then return "" end
    pay(units, 1)
    local ok, r = pcall(c_rep, ...)
    if ok then return r end
    raise(r, "rep", method)
  end

  local function bytes_fn(cf, name)
    return function(...)
      local s = str((...))
      if s then pay(#s, W.byte) end
      local ok, r = pcall(cf, ...)
      if ok then return r end
      raise(r, name, method)
    end
  end
  S.upper = bytes_fn(c_upper, "upper")
  S.lower = bytes_fn(c_lower, "lower")
  S.reverse = bytes_fn(c_reverse, "reverse")

  -- The everyday forms (a string and integer positions) cannot fail: they call
  -- the C function directly, and only strings long enough to matter are costed.
  local SHORT = SMALL // W.byte
  local function sub_slow(...)
    local s, i, j = ...
    s, i, j = str(s), int(i), opt_int(j, -1)
    if s and i and j then
      local l = #s
      local n = endpos(j, l) - posrelat_i(i, l) + 1
      if n > 0 then pay(n, W.byte) end
    end
    local ok, r = pcall(c_sub, ...)
    if ok then return r end
    raise(r, "sub", method)
  end
  function S.sub(...)
    local s, i, j = ...
    if type(s) == "string" and mtype(i) == "integer" and (j == nil or mtype(j) == "integer") then
      local l = #s
      if l > SHORT then
        local n = endpos(j or -1, l) - posrelat_i(i, l) + 1
        if n > 0 then pay(n, W.byte) end
      end
      return c_sub(s, i, j)
    end
    return sub_slow(...)
  end

  local function finish_byte(ok, ...)
    if ok then return ... end
    raise(..., "byte", method)
  end
  function S.byte(...)
    local s, i, j = ...
    if type(s) == "string" and (i == nil or mtype(i) == "integer") and j == nil then
      return c_byte(s, i)   -- one value at most
    end
    s, i = str(s), opt_int(i, 1)
    if s and i then
      j = opt_int(j, i)
      if j then
        local l = #s
        local n = endpos(j, l) - posrelat_i(i, l) + 1
        if n > 0 and n <= MAXSTACK then pay(n, W.value) end
      end
    end
    return finish_byte(pcall(c_byte, ...))
  end

  function S.char(...)
    pay(select("#", ...), W.value)
    local ok, r = pcall(c_char, ...)
    if ok then return r end
    raise(r, "char", method)
  end

  function S.format(...)
    local n = select("#", ...)
    local fmt = str((...))
    if fmt then
      local units = #fmt
      for k = 2, n do
        local v = select(k, ...)
        if type(v) == "string" then units = units + #v end
      end
      pay(units, sfind(fmt, "%q", 1, true) and W.format_q or W.byte)
    end
    local ok, r = pcall(c_format, ...)
    if ok then return r end
    raise(r, "format", method, FORMAT_OWN)
  end

  function S.pack(...)
    local n = select("#", ...)
    local fmt = str((...))
    if fmt then
      local units = pack_fmt_units(fmt)
      for k = 2, n do
        local v = select(k, ...)
        if type(v) == "string" then units = units + #v end
      end
      pay(units, W.pack_byte)
    end
    local ok, r = pcall(c_pack, ...)
    if ok then return r end
    raise(r, "pack", method)
  end

  -- unpack's work is linear in the format and the data it consumes, which only
  -- the result tells ('z' scans for a zero): charged after the call, which is
  -- bounded by the length of a string that already exists.
  local function finish_unpack(units, ok, ...)
    if not ok then raise(..., "unpack", method) end
    local last = select(select("#", ...), ...)
    if mtype(last) == "integer" then pay(units + last, W.pack_byte) end
    return ...
  end
  function S.unpack(...)
    local fmt, data, pos = ...
    fmt, data, pos = str(fmt), str(data), opt_int(pos, 1)
    local units = 0
    if fmt and data and pos then
      units = pack_fmt_units(fmt) - posrelat_i(pos, #data)
    end
    return finish_unpack(units, pcall(c_sunpack, ...))
  end

  return S
end

-------------------------------------------------------------------------------
-- table
-------------------------------------------------------------------------------
-- On a table without a __len metamethod the length the C function uses is
-- rawlen(t), so the work is known before the call. A __len can only be called
-- once (it may have effects, and the C function calls it again itself): those
-- tables go to Lua versions of the functions below, written like ltablib.c
-- (same reads and writes in the same order, same errors), whose loops the
-- budget hook interrupts like any Lua code.

local c_concat, c_insert, c_remove, c_move, c_sort, c_tunpack =
  c.concat, c.insert, c.remove, c.move, c.sort, c.unpack_t

local TABLE_OWN = {"^invalid value %(", "^wrong number of arguments to ",
                   "^invalid order function for sorting", "^object length is not an integer",
                   "^too many results to unpack"}

local function has_len(t)
  local mt = rawmt(t)
  return mt ~= nil and rawget(mt, "__len") ~= nil
end

-- per-element weight for a table: metamethods make every access a call into Lua
local function elem_w(t)
  local mt = rawmt(t)
  if mt == nil then return W.elem end
  if rawget(mt, "__index") == nil and rawget(mt, "__newindex") == nil then return W.elem end
  return W.meta_elem
end

-- Errors of the Lua versions, raised like the C functions' (no location: the
-- wrapper adds the caller's).
local function argerr(argn, name, msg)
  error("bad argument #" .. argn .. " to '" .. name .. "' (" .. msg .. ")", 0)
end

local function typename(v)
  if v == nil then return "nil" end
  local mt = rawmt(v)
  local n = mt and rawget(mt, "__name")
  if type(n) == "string" then return n end
  return type(v)
end

local function check_int(v, argn, name, given)
  local n = int(v)
  if n then return n end
  if not given then argerr(argn, name, "number expected, got no value") end
  if type(v) == "number" or (type(v) == "string" and tonumber(v)) then
    argerr(argn, name, "number has no integer representation")
  end
  argerr(argn, name, "number expected, got " .. typename(v))
end

-- luaL_len: the length by `#` (calls __len), which must be an integer
local function len_of(t)
  local n = int(#t)
  if not n then error("object length is not an integer", 0) end
  return n
end

local function lua_insert(...)
  local t = ...
  local e = len_of(t)
  e = e + 1
  local nargs = select("#", ...)
  local pos
  if nargs == 2 then
    pos = e
  elseif nargs == 3 then
    pos = check_int((select(2, ...)), 2, "insert", true)
    if not ult(pos - 1, e) then argerr(2, "insert", "position out of bounds") end
    pay(e - pos, elem_w(t))   -- the whole loop, before it starts
    for i = e, pos + 1, -1 do t[i] = t[i - 1] end
  else
    error("wrong number of arguments to 'insert'", 0)
  end
  t[pos] = (select(nargs, ...))
end

local function lua_remove(t, ...)
  local size = len_of(t)
  local given = select("#", ...) > 0
  local pos = (...)
  if pos == nil then pos = size else pos = check_int(pos, 2, "remove", given) end
  if pos ~= size and ult(size, pos - 1) then argerr(2, "remove", "position out of bounds") end
  if size > pos then pay(size - pos, elem_w(t)) end   -- the whole loop, before it starts
  local r = t[pos]
  while pos < size do
    t[pos] = t[pos + 1]
    pos = pos + 1
  end
  t[pos] = nil
  return r
end

local function lua_concat(t, sep, i, j)
  local last = len_of(t)
  if sep == nil then sep = "" else
    local s = str(sep)
    if not s then argerr(2, "concat", "string expected, got " .. typename(sep)) end
    sep = s
  end
  if i == nil then i = 1 else i = check_int(i, 3, "concat", true) end
  if j ~= nil then last = check_int(j, 4, "concat", true) end
  if i > last then return "" end
  local n = last - i + 1
  if n <= 0 or n > CAP then n = CAP end   -- wrapped around: the charge kills
  pay(n, W.meta_elem)
  local parts, k = {}, 0
  for x = i, last do
    local v = t[x]
    local tv = type(v)
    if tv == "number" then v = tostring(v)
    elseif tv ~= "string" then
      error("invalid value (" .. tv .. ") at index " .. x .. " in table for 'concat'", 0)
    end
    k = k + 1
    parts[k] = v
    if x == last then break end   -- last == maxinteger must not wrap
  end
  return c_concat(parts, sep)
end

-- ltablib.c's quicksort, with the middle element as pivot (the C version
-- picks a random one when a partition is too unbalanced; a Lua loop that goes
-- quadratic is stopped by the budget).
local function lua_sort(t, comp)
  local n = len_of(t)
  if n <= 1 then return end
  if n >= 0x7fffffff then argerr(1, "sort", "array too big") end
  if comp ~= nil and type(comp) ~= "function" then
    argerr(2, "sort", "function expected, got " .. typename(comp))
  end
  local lg = 1
  while (1 << lg) < n do lg = lg + 1 end
  pay(n * lg, W.sort_fn_cmp)   -- the whole sort, before it starts
  local lt = comp or function(a, b) return a < b end
  local function auxsort(lo, up)
    while lo < up do
      if lt(t[up], t[lo]) then t[lo], t[up] = t[up], t[lo] end
      if up - lo == 1 then return end
      local p = (lo + up) // 2
      local a, b = t[p], t[lo]
      if lt(a, b) then
        t[p], t[lo] = b, a
      else
        local u = t[up]
        if lt(u, a) then t[p], t[up] = u, a end
      end
      if up - lo == 2 then return end
      local P = t[p]
      t[p], t[up - 1] = t[up - 1], P
      local i, j = lo, up - 1
      while true do
        i = i + 1
        while lt(t[i], P) do
          if i == up - 1 then error("invalid order function for sorting", 0) end
          i = i + 1
        end
        j = j - 1
        while lt(P, t[j]) do
          if j < i then error("invalid order function for sorting", 0) end
          j = j - 1
        end
        if j < i then
          t[up - 1], t[i] = t[i], t[up - 1]
          break
        end
        t[i], t[j] = t[j], t[i]
      end
      p = i
      if p - lo < up - p then
        auxsort(lo, p - 1)
        lo = p + 1
      else
        auxsort(p + 1, up)
        up = p - 1
      end
    end
  end
  auxsort(1, n)
end

local T = {}

function T.insert(...)
  local t = ...
  local f = c_insert
  if type(t) == "table" then
    if has_len(t) then
      f = lua_insert
    elseif select("#", ...) == 3 then
      local pos = int((select(2, ...)))
      if pos then
        local n = rawlen(t) + 1 - pos
        if n > 0 then pay(n, elem_w(t)) end
      end
    end
  end
  local ok, r = pcall(f, ...)
  if ok then return end
  raise(r, "insert", false, TABLE_OWN)
end

function T.remove(...)
  local t, pos = ...
  local f = c_remove
  if type(t) == "table" then
    if has_len(t) then
      f = lua_remove
    else
      pos = int(pos)
      if pos then
        local n = rawlen(t) - pos
        if n > 0 then pay(n, elem_w(t)) end
      end
    end
  end
  local ok, r = pcall(f, ...)
  if ok then return r end
  raise(r, "remove", false, TABLE_OWN)
end

function T.move(...)
  local a1, f, e, t, a2 = ...
  f, e, t = int(f), int(e), int(t)
  if f and e and t and e >= f and (f > 0 or e < maxinteger + f) then
    local n = e - f + 1
    if t <= maxinteger - n + 1 then
      local w = elem_w(a1)
      if a2 ~= nil then
        local w2 = elem_w(a2)
        if w2 > w then w = w2 end
      end
      if type(a1) ~= "table" or (a2 ~= nil and type(a2) ~= "table") then w = W.meta_elem end
      pay(n, w)
    end
  end
  local ok, r = pcall(c_move, ...)
  if ok then return r end
  raise(r, "move", false, TABLE_OWN)
end

function T.concat(...)
  local t, sep, i, j = ...
  local f = c_concat
  if type(t) == "table" then
    if has_len(t) then
      f = lua_concat
    else
      sep = sep == nil and "" or str(sep)
      i = opt_int(i, 1)
      j = opt_int(j, rawlen(t))
      if sep and i and j and j >= i then
        local n = j - i + 1
        if n <= 0 then n = CAP end
        pay(n, elem_w(t))
        pay(n * #sep, W.byte)
      end
    end
  end
  local ok, r = pcall(f, ...)
  if ok then
    pay(#r, W.concat_byte)
    return r
  end
  raise(r, "concat", false, TABLE_OWN)
end

function T.sort(...)
  local t, comp = ...
  local f = c_sort
  if type(t) == "table" then
    if rawmt(t) ~= nil then
      f = lua_sort
    else
      local n = rawlen(t)
      if n > 1 then
        local lg = 1
        while (1 << lg) < n do lg = lg + 1 end
        local first = type(rawget(t, 1))
        local plain = comp == nil and (first == "number" or first == "string")
        pay(n * lg, plain and W.sort_cmp or W.sort_fn_cmp)
        if first == "string" then
          -- each comparison of two strings scans their common prefix in C (strcoll): a
          -- table of one long string many times would sort for minutes, so charge the
          -- longest string's bytes per comparison too (docs/sandbox.md, "C library work")
          local longest = 0
          for i = 1, n do
            local v = rawget(t, i)
            if type(v) == "string" and #v > longest then longest = #v end
          end
          if longest > 64 then pay((n * lg) * (longest + 0.0), W.byte) end
        end
      end
    end
  end
  local ok, r = pcall(f, ...)
  if ok then return end
  raise(r, "sort", false, TABLE_OWN)
end

local function finish_tunpack(ok, ...)
  if ok then return ... end
  raise(..., "unpack", false, TABLE_OWN)
end

function T.unpack(...)
  local t, i, j = ...
  local tt = type(t)
  if j == nil and tt == "table" and has_len(t) and int(i or 1) then
    -- the C function would call __len: call it here (once) and hand it the length
    local ok, n = pcall(len_of, t)
    if not ok then raise(n, "unpack", false, TABLE_OWN) end
    return T.unpack(t, i, n)
  end
  local ii = opt_int(i, 1)
  local jj
  if j ~= nil then jj = int(j) elseif tt == "table" or tt == "string" then jj = rawlen(t) end
  if ii and jj and ii <= jj then
    local n = jj - ii
    if n >= 0 and n < MAXSTACK then
      pay(n + 1, tt == "table" and elem_w(t) or W.meta_elem)
    end
  end
  return finish_tunpack(pcall(c_tunpack, ...))
end

-------------------------------------------------------------------------------
-- utf8
-------------------------------------------------------------------------------

local c_uchar, c_ulen, c_codepoint, c_offset, c_codes =
  c.uchar, c.ulen, c.codepoint, c.offset, c.codes
local c_iter_strict = c_codes("")
local c_iter_lax = c_codes("", true)

local U = {}

function U.char(...)
  pay(select("#", ...), W.value)
  local ok, r = pcall(c_uchar, ...)
  if ok then return r end
  raise(r, "char", false)
end

local function finish_u(name, ok, ...)
  if ok then return ... end
  raise(..., name, false)
end

function U.len(...)
  local s, i, j = ...
  s, i, j = str(s), opt_int(i, 1), opt_int(j, -1)
  if s and i and j then
    local l = #s
    local n = u_posrelat(j, l) - u_posrelat(i, l) + 1
    if n > 0 then pay(n, W.utf8_byte) end
  end
  return finish_u("len", pcall(c_ulen, ...))
end

function U.codepoint(...)
  local s, i, j = ...
  s, i = str(s), opt_int(i, 1)
  if s and i then
    j = opt_int(j, i)
    if j then
      local l = #s
      local n = u_posrelat(j, l) - u_posrelat(i, l) + 1
      if n > 0 and n <= MAXSTACK then pay(n, W.utf8_byte + W.value) end
    end
  end
  return finish_u("codepoint", pcall(c_codepoint, ...))
end

-- offset scans as far as the character it finds (or the end): charged after the
-- call, from the result; one call is bounded by the string's length.
function U.offset(...)
  local s, n, i = ...
  s, n = str(s), int(n)
  local ok, r = pcall(c_offset, ...)
  if not ok then raise(r, "offset", false) end
  if s and n then
    local l = #s
    local start = opt_int(i, n >= 0 and 1 or l + 1)
    if start then
      start = u_posrelat(start, l)
      local stop = r or (n > 0 and l + 1 or 1)
      local d = stop - start
      if d < 0 then d = -d end
      pay(d, W.utf8_byte)
    end
  end
  return r
end

-- The iterator skips continuation bytes before decoding: charged after each call
-- for the bytes between the control value and the character it returns.
local function wrap_iter(cf)
  local function finish(s, from, ok, ...)
    if not ok then
      if s and from then pay(#s - from, W.utf8_byte) end
      raise(..., "for iterator", false)
    end
    local p = ...
    if s and from then
      local d = (p or (#s + 1)) - from
      if d >= SMALL then pay(d, W.utf8_byte) end
    end
    return ...
  end
  return function(...)
    local s, i = ...
    return finish(str(s), int(i), pcall(cf, ...))
  end
end
local iter_strict, iter_lax = wrap_iter(c_iter_strict), wrap_iter(c_iter_lax)

function U.codes(...)
  local ok, f, s, z = pcall(c_codes, ...)
  if not ok then raise(f, "codes", false) end
  if f == c_iter_strict then f = iter_strict elseif f == c_iter_lax then f = iter_lax end
  return f, s, z
end

-------------------------------------------------------------------------------
-- Log lines (print, the logger module)
-------------------------------------------------------------------------------
-- One print or logger call hands at most LOG_MAX bytes of text (and LOG_MAX
-- bytes of field strings) to the host's log, cut before the text crosses into
-- Python, with a marker naming the full size.

local LOG_MAX = 65536
local t_pack = table.pack

local function marker(total) return " ... [truncated, " .. total .. " bytes]" end

--- Caps one string: s itself, or its first LOG_MAX bytes and the marker.
local function cap(s)
  local l = #s
  if l <= LOG_MAX then return s end
  pay(LOG_MAX, W.byte)
  return c_sub(s, 1, LOG_MAX) .. marker(l)
end

--- The text of print(...): the tostring of every argument, tab-separated, capped.
local function print_line(tostr, ...)
  local args = t_pack(...)
  local n = args.n
  pay(n, W.elem)
  local total = n > 0 and n - 1 or 0
  for i = 1, n do
    local v = tostr(args[i])
    args[i] = v
    total = total + #v
  end
  if total <= LOG_MAX then
    pay(total, W.concat_byte)
    return c_concat(args, "\t", 1, n)
  end
  local parts, room = {}, LOG_MAX
  for i = 1, n do
    local v = args[i]
    if #v >= room then
      parts[i] = c_sub(v, 1, room)
      break
    end
    parts[i] = v
    room = room - #v - 1
    if room < 0 then break end
  end
  pay(LOG_MAX, W.concat_byte)
  return c_concat(parts, "\t") .. marker(total)
end

local c_next = next

--- A copy of a logger's fields with at most LOG_MAX bytes of keys and strings
--- (longer strings cut with the marker, fields beyond the room left out and
--- counted under the key "..."). Other values are kept as they are, so the
--- codec refuses what it refused before.
local function cap_fields(fields)
  local room = LOG_MAX
  local path = {}
  local function copy(t)
    if path[t] then return t end   -- a cycle: the codec reports it
    path[t] = true
    local out, left = {}, 0
    for k, v in c_next, t do
      if room <= 0 then
        left = left + 1
      else
        room = room - (type(k) == "string" and #k or 8)
        local tv = type(v)
        if tv == "string" then
          if #v > room and #v > 16 then
            local keep = room > 0 and room or 0
            v = c_sub(v, 1, keep) .. marker(#v)
            room = 0
          else
            room = room - #v
          end
        elseif tv == "table" and rawmt(v) == nil then
          v = copy(v)
        else
          room = room - 8
        end
        out[k] = v
      end
    end
    if left > 0 then out["..."] = "[truncated, " .. left .. " more fields]" end
    pay(left, W.elem)
    path[t] = nil
    return out
  end
  return copy(fields)
end

-------------------------------------------------------------------------------

local M = {
  LOG_MAX = LOG_MAX,
  cap = cap,
  print_line = print_line,
  cap_fields = cap_fields,
  string = string_lib(false),     -- string.rep(s, n)
  methods = string_lib(true),     -- s:rep(n)
  table = T,
  utf8 = U,
  W = W,
  c = c,
  lua = {insert = lua_insert, remove = lua_remove, concat = lua_concat, sort = lua_sort},
}

return M
