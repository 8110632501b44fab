-- Functions called through `orrery call` (docs/reference/cli.md).
local M = {}

function M.values()
  return {
    whole_float = 2.0,
    int = 3,
    half = 0.5,
    empty = {},
    list = {1, 2, 3},
    sparse = {[1] = "a", [3] = "c"},
    text = "h\u{e9}llo",
    flag = true,
    err = errors.new{kind = errors.CONFLICT, message = "as a value"},
    pid = process.pid(),
  }
end

function M.fail()
  return nil, errors.new{kind = errors.CONFLICT, message = "order 7 is taken", retryable = false}
end

function M.raiser() error("exploded") end

function M.add(a, b) return a + b end

function M.echo(...) return {...} end

function M.nothing() end

function M.chatty()
  print("this goes to the log")
  return "quiet stdout"
end

function M.not_utf8() return "\255\254" end

return M
