-- The errors module (docs/reference/lua-modules.md, "errors"), run inside a process on the host
-- under test.
local function fields(e)
  return {kind = e:kind(), message = e:message(), retryable = e:retryable(),
          details = e:details(), text = tostring(e)}
end

local function raises(f)
  local ok = pcall(f)
  return not ok
end

local checks = {}

function checks.constants()
  local out = {same_module = require("errors") == errors}
  for _, name in ipairs({"UNKNOWN", "INVALID", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
                         "UNAVAILABLE", "INTERNAL", "CANCELED", "CONFLICT", "TIMEOUT",
                         "RATE_LIMITED"}) do
    out[name] = errors[name]
  end
  return out
end

function checks.new_forms()
  return {
    text = fields(errors.new("just text")),
    full = fields(errors.new{message = "m", kind = errors.CONFLICT, retryable = true,
                             details = {id = 7}}),
    not_retryable = fields(errors.new{message = "n", kind = "Payment", retryable = false}),
    default_kind = fields(errors.new{message = "d"}),
    no_message_raises = raises(function() errors.new{kind = errors.INVALID} end),
    two_argument_form_raises = raises(function() errors.new("Conflict", "m") end),
  }
end

function checks.wrap()
  local base = errors.new{message = "disk full", kind = errors.UNAVAILABLE, retryable = true,
                          details = {disk = "sda"}}
  local once = errors.wrap(base, "saving order")
  local twice = errors.wrap(once, "checkout")
  return {
    once = fields(once),
    twice = fields(twice),
    from_string = fields(errors.wrap("plain", "context")),
    wrap_nil_is_nil = errors.wrap(nil, "anything") == nil,
    original_unchanged = base:message(),
  }
end

function checks.is()
  local base = errors.new{message = "gone", kind = errors.NOT_FOUND}
  local wrapped = errors.wrap(errors.wrap(base, "a"), "b")
  local relabelled = errors.new{message = "outer", kind = errors.INTERNAL}
  return {
    direct = errors.is(base, errors.NOT_FOUND),
    through_wraps = errors.is(wrapped, errors.NOT_FOUND),
    other_kind = errors.is(wrapped, errors.CONFLICT),
    string_is_not_error = errors.is("NotFound", errors.NOT_FOUND),
    nil_is_not_error = errors.is(nil, errors.NOT_FOUND),
    unrelated = errors.is(relabelled, errors.NOT_FOUND),
  }
end

function checks.read_only()
  local e = errors.new{message = "m", kind = errors.CONFLICT}
  local assign = raises(function() e.kind = "Other" end)
  local assign_method = raises(function() e.message = function() return "forged" end end)
  local rawset_raised = raises(function() rawset(e, "kind", "Other") end)
  return {
    assign_raised = assign,
    assign_method_raised = assign_method,
    rawset_raised = rawset_raised,
    kind = e:kind(),
    message = e:message(),
  }
end

return function(name) return checks[name]() end
