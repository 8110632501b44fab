-- orrery patterns: string.find / match / gmatch / gsub with a bounded C path.
--
-- Trusted code, called with (K) before the sandbox is installed. Lua's pattern
-- functions run in C, where the instruction budget cannot see them, and some
-- patterns backtrack for hours. Each wrapper here estimates, from the pattern
-- and the subject length, an upper bound of the C matcher's work (see `cost`).
--   * bound <= C_LIMIT: the C function runs, and the bound (divided by
--     CHARGE_DIV) is charged to the step's instruction budget, so a loop of
--     many bounded calls still runs out of budget;
--   * otherwise a pure-Lua matcher with the same semantics runs, whose loop the
--     budget hook interrupts like any other Lua code.
-- The estimate only decides which path runs; both give the same results and
-- errors, so the choice is invisible to user code (and deterministic: it
-- depends on the arguments only).

local K = ...

local sbyte, ssub, schar = string.byte, string.sub, string.char
local c_find, c_match, c_gmatch, c_gsub = string.find, string.match, string.gmatch, string.gsub
local type, error, tostring, tointeger = type, error, tostring, math.tointeger
local concat, unpack = table.concat, table.unpack

--- Work (matcher steps) the C path may do in one call.
local C_LIMIT = 4000000
--- Estimated C steps per budget instruction charged.
local CHARGE_DIV = 4
local MAXCCALLS = 200
local MAXCAPTURES = 32
local CAP_UNFINISHED, CAP_POSITION = -1, -2

local B_PCT, B_LP, B_RP, B_DOT, B_LB, B_RB, B_CARET, B_DOLLAR =
  sbyte("%().[]^$", 1, -1)
local B_STAR, B_PLUS, B_MINUS, B_QM = sbyte("*+-?", 1, -1)
local B_b, B_f, B_0, B_1, B_9 = sbyte("bf019", 1, -1)

-- Character classes, taken from the C matcher itself so that both paths agree
-- on every byte.
local CLASS = {}
for _, cl in ipairs({"a", "c", "d", "g", "l", "p", "s", "u", "w", "x", "z"}) do  -- %z: deprecated, still in 5.4
  local lower, upper = {}, {}
  for c = 0, 255 do
    local yes = c_find(schar(c), "^%" .. cl) ~= nil
    lower[c] = yes
    upper[c] = not yes
  end
  CLASS[sbyte(cl)] = lower
  CLASS[sbyte(cl:upper())] = upper
end

-------------------------------------------------------------------------------
-- The Lua matcher (Lua 5.4 semantics, mirrors the C matcher's structure so that
-- "pattern too complex" and the error messages come at the same points)
-------------------------------------------------------------------------------

-- Errors of the matcher are raised as marked tables and turned into plain
-- messages at the caller's line by the wrappers (like the C functions' errors).
local PERR, UERR = {}, {}
local function perr(msg) error(setmetatable({msg = msg}, PERR), 0) end

local function match_class(c, cl)
  local t = CLASS[cl]
  if t then return t[c] end
  return cl == c
end

-- index just past the single-char class starting at p
local function class_end(ms, p)
  local pat = ms.pat
  local c = sbyte(pat, p)
  p = p + 1
  if c == B_PCT then
    if p > ms.plen then perr("malformed pattern (ends with '%')") end
    return p + 1
  elseif c == B_LB then
    if sbyte(pat, p) == B_CARET then p = p + 1 end
    repeat
      if p > ms.plen then perr("malformed pattern (missing ']')") end
      local cc = sbyte(pat, p)
      p = p + 1
      if cc == B_PCT and p <= ms.plen then p = p + 1 end
    until sbyte(pat, p) == B_RB
    return p + 1
  end
  return p
end

-- p at '[', ec at the closing ']'
local function match_bracket(pat, c, p, ec)
  local sig = true
  if sbyte(pat, p + 1) == B_CARET then sig = false; p = p + 1 end
  p = p + 1
  while p < ec do
    local pc = sbyte(pat, p)
    if pc == B_PCT then
      p = p + 1
      if match_class(c, sbyte(pat, p)) then return sig end
    elseif sbyte(pat, p + 1) == B_MINUS and p + 2 < ec then
      if pc <= c and c <= sbyte(pat, p + 2) then return sig end
      p = p + 2
    elseif pc == c then
      return sig
    end
    p = p + 1
  end
  return not sig
end

local function single_match(ms, s, p, ep)
  if s > ms.slen then return false end
  local c = sbyte(ms.src, s)
  local pc = sbyte(ms.pat, p)
  if pc == B_DOT then return true
  elseif pc == B_PCT then return match_class(c, sbyte(ms.pat, p + 1))
  elseif pc == B_LB then return match_bracket(ms.pat, c, p, ep - 1)
  end
  return pc == c
end

local do_match

local function max_expand(ms, s, p, ep)
  local i = 0
  while single_match(ms, s + i, p, ep) do i = i + 1 end
  while i >= 0 do
    local res = do_match(ms, s + i, ep + 1)
    if res then return res end
    i = i - 1
  end
  return nil
end

local function min_expand(ms, s, p, ep)
  while true do
    local res = do_match(ms, s, ep + 1)
    if res then return res end
    if single_match(ms, s, p, ep) then s = s + 1 else return nil end
  end
end

local function start_capture(ms, s, p, what)
  local level = ms.level + 1
  if level > MAXCAPTURES then perr("too many captures") end
  ms.cinit[level] = s
  ms.clen[level] = what
  ms.level = level
  local res = do_match(ms, s, p)
  if not res then ms.level = ms.level - 1 end
  return res
end

local function end_capture(ms, s, p)
  local l
  for i = ms.level, 1, -1 do
    if ms.clen[i] == CAP_UNFINISHED then l = i; break end
  end
  if not l then perr("invalid pattern capture") end
  ms.clen[l] = s - ms.cinit[l]
  local res = do_match(ms, s, p)
  if not res then ms.clen[l] = CAP_UNFINISHED end
  return res
end

local function match_balance(ms, s, p)
  if p >= ms.plen then perr("malformed pattern (missing arguments to '%b')") end
  if s > ms.slen then return nil end
  local src = ms.src
  local b, e = sbyte(ms.pat, p, p + 1)
  if sbyte(src, s) ~= b then return nil end
  local cont = 1
  s = s + 1
  while s <= ms.slen do
    local c = sbyte(src, s)
    if c == e then
      cont = cont - 1
      if cont == 0 then return s + 1 end
    elseif c == b then
      cont = cont + 1
    end
    s = s + 1
  end
  return nil
end

local function match_capture(ms, s, l)
  l = l - B_1 + 1
  if l < 1 or l > ms.level or ms.clen[l] == CAP_UNFINISHED then
    perr("invalid capture index %" .. (l))
  end
  local len = ms.clen[l]
  if len >= 0 and ms.slen - s + 1 >= len
     and ssub(ms.src, ms.cinit[l], ms.cinit[l] + len - 1) == ssub(ms.src, s, s + len - 1) then
    return s + len
  end
  return nil
end

-- returns the index just past the match, or nil
function do_match(ms, s, p)
  ms.depth = ms.depth - 1
  if ms.depth < 0 then perr("pattern too complex") end
  local pat, plen = ms.pat, ms.plen
  while true do
    if p > plen then break end
    local pc = sbyte(pat, p)
    local default = false
    if pc == B_LP then
      if sbyte(pat, p + 1) == B_RP then
        s = start_capture(ms, s, p + 2, CAP_POSITION)
      else
        s = start_capture(ms, s, p + 1, CAP_UNFINISHED)
      end
      break
    elseif pc == B_RP then
      s = end_capture(ms, s, p + 1)
      break
    elseif pc == B_DOLLAR and p == plen then
      if s ~= ms.slen + 1 then s = nil end
      break
    elseif pc == B_PCT then
      local nc = sbyte(pat, p + 1)
      if nc == B_b then
        s = match_balance(ms, s, p + 2)
        if not s then break end
        p = p + 4
      elseif nc == B_f then
        p = p + 2
        if sbyte(pat, p) ~= B_LB then perr("missing '[' after '%f' in pattern") end
        local ep = class_end(ms, p)
        local prev = s == 1 and 0 or sbyte(ms.src, s - 1)
        local cur = s <= ms.slen and sbyte(ms.src, s) or 0
        if not match_bracket(pat, prev, p, ep - 1) and match_bracket(pat, cur, p, ep - 1) then
          p = ep
        else
          s = nil
          break
        end
      elseif nc and nc >= B_0 and nc <= B_9 then
        s = match_capture(ms, s, nc)
        if not s then break end
        p = p + 2
      else
        default = true
      end
    else
      default = true
    end
    if default then
      local ep = class_end(ms, p)
      local epc = sbyte(pat, ep)
      if not single_match(ms, s, p, ep) then
        if epc == B_STAR or epc == B_QM or epc == B_MINUS then
          p = ep + 1
        else
          s = nil
          break
        end
      elseif epc == B_QM then
        local res = do_match(ms, s + 1, ep + 1)
        if res then s = res; break end
        p = ep + 1
      elseif epc == B_PLUS then
        s = max_expand(ms, s + 1, p, ep); break
      elseif epc == B_STAR then
        s = max_expand(ms, s, p, ep); break
      elseif epc == B_MINUS then
        s = min_expand(ms, s, p, ep); break
      else
        s = s + 1
        p = ep
      end
    end
  end
  ms.depth = ms.depth + 1
  return s
end

local function new_state(src, pat)
  -- indices into src and pat stay absolute (an anchor is skipped by the caller)
  return {src = src, slen = #src, pat = pat, plen = #pat, level = 0, depth = MAXCCALLS,
          cinit = {}, clen = {}}
end

local function reprep(ms) ms.level = 0; ms.depth = MAXCCALLS end

-- value of capture i (1-based) for a match s..e-1; whole match when no captures
local function get_capture(ms, i, s, e)
  if i > ms.level then
    if i ~= 1 then perr("invalid capture index %" .. i) end
    return ssub(ms.src, s, e - 1)
  end
  local l = ms.clen[i]
  if l == CAP_UNFINISHED then perr("unfinished capture") end
  if l == CAP_POSITION then return ms.cinit[i] end
  return ssub(ms.src, ms.cinit[i], ms.cinit[i] + l - 1)
end

local function captures(ms, s, e, wholeok)
  local n = (ms.level == 0 and wholeok) and 1 or ms.level
  local out = {}
  for i = 1, n do out[i] = get_capture(ms, i, s, e) end
  return out, n
end

local function posrelat(pos, len)
  if pos > 0 then return pos
  elseif pos == 0 then return 1
  elseif pos < -len then return 1
  end
  return len + pos + 1
end

local SPECIALS = "[%^%$%*%+%?%.%(%[%%%-]"

-- plain substring search, in slices small enough for C to do quickly
local function plain_find(s, p, init)
  local ls, lp = #s, #p
  if lp == 0 then return init, init - 1 end
  local window = C_LIMIT // lp
  if window < 1 then window = 1 end
  local i = init
  while i + lp - 1 <= ls do
    local last = i + window + lp - 2
    local a = c_find(ssub(s, i, last), p, 1, true)
    if a then return i + a - 1, i + a + lp - 2 end
    i = i + window
  end
  return nil
end

local function lua_find_aux(find, s, p, init, plain)
  local ls = #s
  init = posrelat(init or 1, ls)
  if init > ls + 1 then return nil end
  if find and (plain or not c_find(p, SPECIALS)) then
    return plain_find(s, p, init)
  end
  local anchor = sbyte(p, 1) == B_CARET
  local ms = new_state(s, p)
  local pstart = anchor and 2 or 1
  local s1 = init
  repeat
    reprep(ms)
    local e = do_match(ms, s1, pstart)
    if e then
      if find then
        local caps, n = captures(ms, nil, nil, false)
        return s1, e - 1, unpack(caps, 1, n)
      end
      local caps, n = captures(ms, s1, e, true)
      return unpack(caps, 1, n)
    end
    s1 = s1 + 1
  until s1 > ls + 1 or anchor
  return nil
end

local function lua_gmatch(s, p, init)
  local ls = #s
  init = posrelat(init or 1, ls)
  if init > ls + 1 then init = ls + 2 end
  local ms = new_state(s, p)
  local src, lastmatch = init, nil
  return function()
    while src <= ls + 1 do
      reprep(ms)
      local e = do_match(ms, src, 1)
      if e and e ~= lastmatch then
        local start = src
        src, lastmatch = e, e
        local caps, n = captures(ms, start, e, true)
        return unpack(caps, 1, n)
      end
      src = src + 1
    end
    return nil
  end
end

local function add_s(ms, out, repl, s, e)
  local i, lr = 1, #repl
  while i <= lr do
    local j = c_find(repl, "%", i, true)
    if not j then out[#out + 1] = ssub(repl, i); break end
    out[#out + 1] = ssub(repl, i, j - 1)
    local c = sbyte(repl, j + 1)
    if c == B_PCT then
      out[#out + 1] = "%"
    elseif c == B_0 then
      out[#out + 1] = ssub(ms.src, s, e - 1)
    elseif c and c >= B_1 and c <= B_9 then
      out[#out + 1] = tostring(get_capture(ms, c - B_0, s, e))
    else
      perr("invalid use of '%' in replacement string")
    end
    i = j + 2
  end
end

local function lua_gsub(s, p, repl, max_n)
  local ls = #s
  local tr = type(repl)
  if max_n == nil then max_n = ls + 1 end
  local anchor = sbyte(p, 1) == B_CARET
  local ms = new_state(s, p)
  local pstart = anchor and 2 or 1
  local out = {}
  local src, lastmatch, n, changed = 1, nil, 0, false
  if tr == "number" then repl = tostring(repl); tr = "string" end
  while n < max_n do
    reprep(ms)
    local e = do_match(ms, src, pstart)
    if e and e ~= lastmatch then
      n = n + 1
      if tr == "string" then
        add_s(ms, out, repl, src, e)
        changed = true
      else
        local v
        if tr == "function" then
          local caps, k = captures(ms, src, e, true)
          v = repl(unpack(caps, 1, k))
        else
          v = repl[get_capture(ms, 1, src, e)]
        end
        if not v then
          out[#out + 1] = ssub(s, src, e - 1)
        elseif type(v) == "string" or type(v) == "number" then
          out[#out + 1] = tostring(v)
          changed = true
        else
          perr("invalid replacement value (a " .. type(v) .. ")")
        end
      end
      src, lastmatch = e, e
    elseif src <= ls then
      out[#out + 1] = ssub(s, src, src)
      src = src + 1
    else
      break
    end
    if anchor then break end
  end
  if not changed then return s, n end
  out[#out + 1] = ssub(s, src)
  return concat(out), n
end

-------------------------------------------------------------------------------
-- The cost model
-------------------------------------------------------------------------------
-- A pattern is analysed once (cached): its items, and for each quantified item
-- whether the rest of the pattern can start with a character of its class
-- ("overlap") and whether the rest always succeeds (only nullable items up to
-- the end). Then, for a subject of n characters, the worst case of one attempt is
-- evaluated from the last item back:
--   plain item, capture, %f ............ 1 + B
--   %b, back-reference ................. n + B          (a scan)
--   X* X+ X- X? whose rest always succeeds: the expansion happens once, in the
--                                        successful attempt (counted apart, S += n)
--   X* X+ X- without overlap ........... n * F + B      (F: cost of the rest failing
--                                        at its first character; only one expansion
--                                        point can get past it)
--   X? without overlap ................. 1 + F + B
--   X* X+ X- with overlap .............. n + (n + 1) * B   (each expansion point)
--   X? with overlap .................... 1 + 2 * B
-- The total is starts * B + S, starts = 1 when anchored, n + 1 otherwise.

local set_cache = {}
local set_cache_n = 0

local function item_set(text)
  local set = set_cache[text]
  if set then return set end
  set = {}
  if text == "." then
    for c = 0, 255 do set[c] = true end
  elseif #text == 1 then
    set[sbyte(text)] = true
  else
    local pat = "^" .. text
    for c = 0, 255 do set[c] = c_find(schar(c), pat) ~= nil end
  end
  if set_cache_n >= 512 then set_cache, set_cache_n = {}, 0 end
  set_cache[text] = set
  set_cache_n = set_cache_n + 1
  return set
end

-- class_end for the analysis: nil when the pattern is malformed there
local function safe_class_end(pat, plen, p)
  local c = sbyte(pat, p)
  p = p + 1
  if c == B_PCT then
    if p > plen then return nil end
    return p + 1
  elseif c == B_LB then
    if sbyte(pat, p) == B_CARET then p = p + 1 end
    repeat
      if p > plen then return nil end
      local cc = sbyte(pat, p)
      p = p + 1
      if cc == B_PCT and p <= plen then p = p + 1 end
    until sbyte(pat, p) == B_RB
    return p + 1
  end
  return p
end

local NULLABLE = {[B_STAR] = true, [B_MINUS] = true, [B_QM] = true}

-- items of a pattern from index p: {kind, set, q}; kinds: "one" (a class),
-- "skip" (capture marks, %f), "scan" (%b, back-reference), "eos" ($),
-- "stop" (malformed from here on: the C matcher raises when it gets here)
local function parse(pat, p)
  local plen = #pat
  local items = {}
  while p <= plen do
    local c = sbyte(pat, p)
    local nc = sbyte(pat, p + 1)
    if c == B_LP then
      items[#items + 1] = {kind = "skip"}
      p = p + ((nc == B_RP) and 2 or 1)
    elseif c == B_RP then
      items[#items + 1] = {kind = "skip"}
      p = p + 1
    elseif c == B_DOLLAR and p == plen then
      items[#items + 1] = {kind = "eos"}
      p = p + 1
    elseif c == B_PCT and nc == B_b then
      if p + 3 > plen then items[#items + 1] = {kind = "stop"}; break end
      items[#items + 1] = {kind = "scan", first = {[sbyte(pat, p + 2)] = true}}
      p = p + 4
    elseif c == B_PCT and nc == B_f then
      local ep = sbyte(pat, p + 2) == B_LB and safe_class_end(pat, plen, p + 2)
      if not ep then items[#items + 1] = {kind = "stop"}; break end
      items[#items + 1] = {kind = "front"}
      p = ep
    elseif c == B_PCT and nc and nc >= B_0 and nc <= B_9 then
      items[#items + 1] = {kind = "scan"}
      p = p + 2
    else
      local ep = safe_class_end(pat, plen, p)
      if not ep then items[#items + 1] = {kind = "stop"}; break end
      local q = sbyte(pat, ep)
      if q ~= B_STAR and q ~= B_PLUS and q ~= B_MINUS and q ~= B_QM then q = nil end
      local text = ssub(pat, p, ep - 1)
      items[#items + 1] = {kind = "one", set = item_set(text), q = q, text = text, any = text == "."}
      p = ep + (q and 1 or 0)
    end
  end
  return items
end

local function overlaps(set, first)
  if first == nil then return true end
  for c in next, first do
    if set[c] then return true end
  end
  return false
end

-- Analysis: for each item, (overlap, rest_succeeds, fail_len) from the back.
local function analyse(pat, p)
  local items = parse(pat, p)
  local first = {}           -- chars that can start the rest; nil = any
  local succeeds = true      -- the rest matches at any position
  local at_end = true        -- the rest matches at the end of the subject
  local fail_len = 1         -- cost of the rest failing at a char outside `first`
  for k = #items, 1, -1 do
    local it = items[k]
    it.overlap = it.set and overlaps(it.set, first)
    it.succeeds = succeeds
    it.fail_len = fail_len
    if it.kind == "one" then
      if it.any and (it.q == B_STAR or it.q == B_MINUS) and at_end then
        -- ".*" / ".-" followed by something that matches at the end: always matches
        first, succeeds, fail_len = nil, true, 1
      elseif NULLABLE[it.q] then
        if first then
          local u = {}
          for c in next, first do u[c] = true end
          for c = 0, 255 do if it.set[c] then u[c] = true end end
          first = u
        end
        fail_len = fail_len + 1
      else
        first = {}
        for c = 0, 255 do if it.set[c] then first[c] = true end end
        succeeds, at_end, fail_len = false, false, 1
      end
    elseif it.kind == "skip" then
      fail_len = fail_len + 1
    elseif it.kind == "eos" then
      first, succeeds, fail_len = {}, false, 1
    elseif it.kind == "scan" and it.first then
      first, succeeds, at_end, fail_len = it.first, false, false, 1
    else  -- back-reference, frontier, malformed rest
      first, succeeds, at_end, fail_len = nil, false, false, 1
    end
  end
  return items
end

local analysis_cache = {}
local analysis_n = 0

local function analysis(pat, anchored_ok)
  local key = anchored_ok and pat or ("\0g" .. pat)
  local a = analysis_cache[key]
  if a then return a end
  local anchored = anchored_ok and sbyte(pat, 1) == B_CARET
  a = {items = analyse(pat, anchored and 2 or 1), anchored = anchored}
  if analysis_n >= 256 then analysis_cache, analysis_n = {}, 0 end
  analysis_cache[key] = a
  analysis_n = analysis_n + 1
  return a
end

--- Upper bound of the C matcher's steps for `pat` on a subject of n characters;
--- runs[k], when given, bounds how far quantified item k can expand.
local function cost(pat, n, anchored_ok, runs)
  local a = analysis(pat, anchored_ok)
  local items = a.items
  local B, S = 1, 0
  local N = n
  for k = #items, 1, -1 do
    local it = items[k]
    local kind = it.kind
    if kind == "one" then
      local q = it.q
      local n = runs and runs[k] or N -- luacheck: ignore 422 (N keeps the argument)
      if q == nil then
        B = 1 + B
      elseif it.succeeds then
        B = 1 + B
        if q == B_STAR or q == B_PLUS then S = S + n + 1 end
      elseif q == B_QM then
        if it.overlap then B = 1 + 2 * B else B = 1 + it.fail_len + B end
      elseif it.overlap then
        B = n + (n + 1) * B
      else
        B = n * (it.fail_len + 1) + B
      end
    elseif kind == "scan" then
      B = N + 1 + B
    elseif kind == "stop" then
      B = 1
    else
      B = 1 + B
    end
    if B > C_LIMIT then return B end   -- already too big: no need to go on
  end
  local starts = a.anchored and 1 or (N + 1)
  return starts * B + S
end

-- Longest run of characters of each quantified class in s[init..], found by the
-- C matcher with linear patterns ("X+" ends the pattern, so it never backtracks).
local function class_runs(s, init, items)
  local runs = {}
  for k = 1, #items do
    local it = items[k]
    if it.kind == "one" and it.q and not it.any then
      local text = it.text
      if #text == 1 and c_find(text, "^%p") then text = "%" .. text end
      local pat, best, i = text .. "+", 0, init and posrelat(init, #s) or 1
      while true do
        local a, b = c_find(s, pat, i)
        if not a then break end
        if b - a + 1 > best then best = b - a + 1 end
        i = b + 1
      end
      runs[k] = best
    end
  end
  return runs
end

-------------------------------------------------------------------------------
-- The wrappers
-------------------------------------------------------------------------------

local charge = K.charge
local MEMERR = K.MEMERR
local getmetatable, setmetatable, pcall = getmetatable, setmetatable, pcall

-- Ends a wrapper: results, or the error raised at the caller's line. Tail-called
-- by the wrapper, so level 2 is the wrapper's caller.
local function finish(ok, ...)
  if ok then return ... end
  local e = ...
  local mt = getmetatable(e)
  if mt == PERR then error(e.msg, 2) end
  if mt == UERR then error(e.value, 0) end        -- raised by a replacement function
  if type(e) == "string" and e ~= MEMERR then error(e, 2) end
  error(e, 0)
end

local function bad(argn, name, msg) error("bad argument #" .. argn .. " to '" .. name .. "' (" .. msg .. ")", 4) end

local function check_str(s, argn, name)
  local t = type(s)
  if t == "string" then return s end
  if t == "number" then return tostring(s) end
  bad(argn, name, "string expected, got " .. (s == nil and "no value" or t))
end

local function check_int(v, argn, name)
  if v == nil or math.type(v) == "integer" then return v end
  local i = tointeger(v)
  if i == nil and type(v) == "string" then
    local num = tonumber(v)
    if num == nil then bad(argn, name, "number expected, got string") end
    i = tointeger(num)
  end
  if i == nil then
    if type(v) == "number" then bad(argn, name, "number has no integer representation") end
    bad(argn, name, "number expected, got " .. type(v))
  end
  return i
end

local force_lua = false

-- true: run the C function (its bound is charged to the budget); false: Lua.
local function route(s, init, p, n, anchored_ok)
  if force_lua then return false end
  local c = cost(p, n, anchored_ok)
  if c > C_LIMIT then
    -- the bound from the subject's length is too big: bound each expansion by
    -- the longest run of its class in this subject
    local runs = class_runs(s, init, analysis(p, anchored_ok).items)
    c = cost(p, n, anchored_ok, runs)
    if c > C_LIMIT then return false end
  end
  if c >= CHARGE_DIV then charge(c // CHARGE_DIV) end
  return true
end

local function subject_len(init, ls)
  if init == nil then return ls end
  local i = posrelat(init, ls)
  if i > ls then return 0 end
  return ls - i + 1
end

local function find(s, p, init, plain)
  s = check_str(s, 1, "find")
  p = check_str(p, 2, "find")
  init = check_int(init, 3, "find")
  local n = subject_len(init, #s)
  if plain or not c_find(p, SPECIALS) then
    -- substring search: at most n * #p comparisons
    local work = n * #p
    if force_lua or work > C_LIMIT then return finish(pcall(lua_find_aux, true, s, p, init, true)) end
    if work >= CHARGE_DIV then charge(work // CHARGE_DIV) end
    return c_find(s, p, init, plain)
  end
  if route(s, init, p, n, true) then return finish(pcall(c_find, s, p, init, plain)) end
  return finish(pcall(lua_find_aux, true, s, p, init, false))
end

local function match(s, p, init)
  s = check_str(s, 1, "match")
  p = check_str(p, 2, "match")
  init = check_int(init, 3, "match")
  if route(s, init, p, subject_len(init, #s), true) then return finish(pcall(c_match, s, p, init)) end
  return finish(pcall(lua_find_aux, false, s, p, init, false))
end

-- each call of the iterator ends like a wrapper
local function guard_iter(it)
  return function() return finish(pcall(it)) end
end

local function gmatch(s, p, init)
  s = check_str(s, 1, "gmatch")
  p = check_str(p, 2, "gmatch")
  init = check_int(init, 3, "gmatch")
  if route(s, init, p, subject_len(init, #s), false) then return guard_iter(c_gmatch(s, p, init)) end
  return guard_iter(lua_gmatch(s, p, init))
end

local REPL_TYPES = {string = true, number = true, table = true, ["function"] = true}

local function user_result(ok, ...)
  if ok then return ... end
  error(setmetatable({value = (...)}, UERR), 0)
end

local function gsub(s, p, repl, max_n)
  s = check_str(s, 1, "gsub")
  p = check_str(p, 2, "gsub")
  local tr = type(repl)
  if not REPL_TYPES[tr] then
    error("bad argument #3 to 'gsub' (string/function/table expected, got "
          .. (repl == nil and "no value" or tr) .. ")", 2)
  end
  max_n = check_int(max_n, 4, "gsub")
  local r = repl
  -- errors of the replacement pass through unchanged
  if tr == "function" then
    r = function(...) return user_result(pcall(repl, ...)) end
  elseif tr == "table" then
    r = function(k) return user_result(pcall(function() return repl[k] end)) end
  end
  if route(s, nil, p, #s, true) then return finish(pcall(c_gsub, s, p, r, max_n)) end
  return finish(pcall(lua_gsub, s, p, r, max_n))
end

local M = {find = find, match = match, gmatch = gmatch, gsub = gsub}

-- For tests, through the engine only (K is never reachable from user code).
M.lua = {
  find = function(s, p, init, plain) return finish(pcall(lua_find_aux, true, s, p, init, plain)) end,
  match = function(s, p, init) return finish(pcall(lua_find_aux, false, s, p, init, false)) end,
  gmatch = function(s, p, init) return guard_iter(lua_gmatch(s, p, init)) end,
  gsub = function(s, p, repl, max_n) return finish(pcall(lua_gsub, s, p, repl, max_n)) end,
}
M.c = {find = c_find, match = c_match, gmatch = c_gmatch, gsub = c_gsub}
M.cost = cost
M.route = route   -- (s, init, p, n, anchored_ok): true when the C function would run
M.C_LIMIT = C_LIMIT
function M.force_lua(on) force_lua = on and true or false end

return M
