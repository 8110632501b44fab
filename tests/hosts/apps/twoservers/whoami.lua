-- the workflow's own PID and the namespace it runs in
local workflow = require("workflow")

local function main()
  return {pid = process.pid(), namespace = workflow.info().namespace}
end

return {main = main}
