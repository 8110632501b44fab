local M = {}

function M.raiser() error("raised in a function") end
function M.add(a, b) return a + b end
function M.failing(kind) return nil, errors.new{kind = kind, message = "failed on purpose"} end

function M.send_to_dead()
  local pid = assert(process.spawn_monitored("t.embed:result", "app:processes", 1))
  process.events():receive()
  local ok, err = process.send(pid, "hello", 1)
  return {returned_nil = ok == nil, kind = err and err:kind()}
end

return M
