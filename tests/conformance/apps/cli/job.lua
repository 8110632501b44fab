-- A process run with `orrery run --exec` (docs/reference/cli.md).
local M = {}

function M.main(input)
  print("running the job")
  return {got = input, pid_host = process.pid():match("@([^|]+)|")}
end

function M.fail(input)
  return nil, errors.new{kind = errors.UNAVAILABLE, message = "no capacity for " .. tostring(input.n)}
end

return M
