-- Sends `count` messages numbered 1..count to `dest`, then tells `parent`.
local function main(parent, dest, id, count)
  local base = id * 1000000
  for seq = 1, count do
    local ok, err = process.send(dest, "n", base + seq)
    if not ok then error(err) end
  end
  process.send(parent, "sent", id)
end

return {main = main}
