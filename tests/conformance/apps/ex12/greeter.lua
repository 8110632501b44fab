local workflow = require("workflow")
local ANY = workflow.DEFAULT_VERSION

local function main(input)
  local v = workflow.version("greeting-style", ANY, 2)
  if input.hold then
    process.inbox():receive()                 -- parked until someone sends "go"
  end
  local text
  if v == ANY then
    text = "hi " .. input.name
  elseif v == 1 then
    text = "Hello, " .. input.name
  else
    text = "Hello, " .. input.name .. "!"
  end
  return {
    version = v,
    repeated = workflow.version("greeting-style", ANY, 2),
    other = workflow.version("log-format", 0, 5),
    text = text,
    type = workflow.info().workflow_type,
    history_grew = workflow.history_length() > 0,
  }
end

return {main = main}
