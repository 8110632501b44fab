local workflow = require("workflow")

local function main()
  local res = assert(process.exec("ex.version:greeter", "app:worker", {name = "Ada"}))
  res.outside = workflow.version("anything", 1, 3)
  res.info_outside = workflow.info() == nil
  return res
end

return {main = main}
