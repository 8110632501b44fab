-- Processes under test for context (docs/reference/semantics.md, "Context";
-- docs/reference/lua-modules.md, "ctx").
local ctx = require("ctx")
local M = {}

local function kind_of(err) return err and err:kind() end

function M.reader()
  local tenant = ctx.get("tenant")
  local missing, err = ctx.get("missing")
  local empty, eerr = ctx.get("")
  return {
    all = ctx.all(),
    tenant = tenant,
    missing = {returned_nil = missing == nil, kind = kind_of(err)},
    empty_key = {returned_nil = empty == nil, kind = kind_of(eerr)},
  }
end

-- what its own children and function calls see
function M.parent(host)
  local funcs = require("funcs")
  local grandchild = process.exec("t.ctx:reader", host)
  local overlaid = process.with_context({b = "child wins"}):spawn_monitored("t.ctx:reader", host)
  local events = process.events()
  local ev = events:receive()
  assert(ev.from == overlaid)
  local called = funcs.call("t.ctx:read")
  local executor = funcs.new():with_context({b = "executor wins", extra = 1})
  return {
    own = ctx.all(),
    grandchild = grandchild.all,
    overlaid = ev.result.value.all,
    call = called,
    executor_call = executor:call("t.ctx:read"),
    after_executor = funcs.call("t.ctx:read"),
  }
end

return M
