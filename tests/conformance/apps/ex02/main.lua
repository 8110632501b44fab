local time = require("time")

local function main()
  while not process.registry.lookup("journal") do time.sleep("10ms") end
  local reports = process.listen("report")
  local give_up = time.now():add("3s")
  local starts
  repeat
    time.sleep("100ms")
    assert(process.send("journal", "report"))
    starts = reports:receive()
  until #starts >= 3 or time.now():after(give_up)
  if #starts < 3 then return {runs = #starts} end

  time.sleep("100ms")                       -- let the third run register its name
  local function gap(a, b) return (starts[b] - starts[a]) // time.MILLISECOND end
  return {
    runs = #starts,
    first_gap_ok = gap(1, 2) >= 200 and gap(1, 2) < 350,
    second_gap_ok = gap(2, 3) >= 400 and gap(2, 3) < 600,
    flaky_up = process.registry.lookup("flaky") ~= nil,
  }
end

return {main = main}
