-- Fails as soon as it receives "boom"; returns when cancelled.
local function main()
  local boom, events = process.listen("boom"), process.events()
  local r = channel.select{boom:case_receive(), events:case_receive()}
  if r.channel == events then return "cancelled" end
  error("boom")
end

return {main = main}
