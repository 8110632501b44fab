-- Attacks on C library functions: work done in C that the instruction budget cannot see.
-- Same protocol as attempts.lua: each returns nil when it gained nothing, or a string naming
-- what it reached; raising is a refusal; a budget kill ends the process.
local A = {}

local function nothing(s)
  if s ~= "" then return "rep of nothing gave " .. #s .. " bytes" end
end
function A.string_rep_of_nothing() return nothing(string.rep("", math.maxinteger)) end
function A.string_rep_method_of_nothing() return nothing((""):rep(math.maxinteger, "")) end
function A.string_rep_loop()
  local n = 0
  for _ = 1, 1e6 do n = n + #string.rep("x", 1 << 20) end
  return "rep loop ended: " .. n
end
function A.table_move_huge() table.move({}, 1, 2^62, 1) return "move ended" end
function A.table_move_huge_into_other() table.move({}, 1, math.maxinteger, 1, {}) return "move ended" end

local function huge_len(n) return setmetatable({}, {__len = function() return n end}) end
function A.table_insert_huge_len() table.insert(huge_len(2^62), 1, "x") return "insert ended" end
function A.table_remove_huge_len() table.remove(huge_len(2^62), 1) return "remove ended" end
function A.table_concat_huge_len()
  local t = setmetatable({}, {__len = function() return 1e9 end, __index = function() return "x" end})
  return "concat ended: " .. #table.concat(t)
end
function A.table_concat_over_index()
  local t = setmetatable({}, {__index = function() return "x" end})
  return "concat ended: " .. #table.concat(t, "", 1, 1e9)
end
function A.table_unpack_huge_len() return select("#", table.unpack(huge_len(1e9))) end

local function big(n)
  local t = {}
  for i = 1, n do t[i] = i end
  return t
end
function A.table_remove_front_loop()
  local t = big(2e6)
  for _ = 1, 400 do table.remove(t, 1) end
  return "400 removes ended"
end
function A.table_insert_front_loop()
  local t = big(2e6)
  for i = 1, 300 do table.insert(t, 1, i) end
  return "300 inserts ended"
end
function A.table_sort_big()
  local t, x = {}, 7
  for i = 1, 5e6 do x = (x * 1103515245 + 12345) % 2147483648; t[i] = x end
  table.sort(t, function(a, b) return a < b end)
  return "sort ended"
end
-- one 1 MB string 100,000 times: every comparison scans a megabyte in C
function A.table_sort_one_long_string()
  local s, t = ("x"):rep(1 << 20), {}
  for i = 1, 100000 do t[i] = s end
  table.sort(t)
  return "sort ended"
end

function A.upper_loop()
  local s = ("x"):rep(1 << 24)
  for _ = 1, 1e6 do s:upper() end
  return "upper loop ended"
end
function A.sub_copy_loop()
  local s = ("x"):rep(1 << 24)
  for _ = 1, 1e6 do s:sub(2) end
  return "sub loop ended"
end
function A.byte_unpack_loop()
  local s = ("x"):rep(900000)
  for _ = 1, 1e6 do s:byte(1, -1) end
  return "byte loop ended"
end
function A.format_loop()
  local s = ("x"):rep(1 << 24)
  for _ = 1, 1e6 do string.format("%s", s) end
  return "format loop ended"
end
function A.pack_padding_loop()
  for _ = 1, 1e6 do string.pack("c100000000", "") end
  return "pack loop ended"
end
function A.utf8_len_loop()
  local s = ("\u{e9}"):rep(1 << 22)
  for _ = 1, 1e6 do utf8.len(s) end
  return "utf8.len loop ended"
end
function A.utf8_codes_skip_loop()
  local f = utf8.codes("a")
  local s = "a" .. ("\x80"):rep(1 << 24)
  for _ = 1, 1e6 do f(s, 1) end
  return "codes loop ended"
end
function A.print_huge_five_times()
  local s = ("x"):rep(100 * 1024 * 1024)
  for _ = 1, 5 do print(s) end
  s = nil
  return nil
end
function A.logger_huge_fields()
  local logger = require("logger")
  local s = ("x"):rep(8 * 1024 * 1024)
  for _ = 1, 5 do logger.info(s, {a = s, b = {c = s}}) end
  return nil
end
function A.channel_new_huge()
  for _, n in ipairs({1e300, 0 / 0, -1, 2.5, math.huge, -math.huge}) do
    local ok, e = pcall(channel.new, n)
    if ok then return "channel.new accepted " .. tostring(n) end
    local clear = getmetatable(e) == "error" and e:kind() == "Invalid"
      and e:message():find("channel size must be a non-negative integer", 1, true)
    if not clear then return "unclear error for " .. tostring(n) .. ": " .. tostring(e) end
  end
  return nil
end

local function run(name)
  local f = A[name]
  if not f then error("no attempt named " .. tostring(name)) end
  local ok, res = pcall(f)
  if ok then return {escaped = res or false} end
  local msg = (type(res) == "table" and getmetatable(res) == "error") and res:message()
    or type(res) == "string" and res or "(a " .. type(res) .. " was raised)"
  return {escaped = false, error = msg}
end

return {main = run, names = function()
  local t = {}
  for k in pairs(A) do t[#t + 1] = k end
  table.sort(t)
  return t
end}
