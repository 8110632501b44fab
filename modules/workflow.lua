-- The `workflow` module (docs/reference/lua-modules.md, "workflow"). Outside a workflow the host
-- answers
-- as for a fresh, never-replayed execution.

local K, H = ...
local type, pairs = type, pairs
local M = {DEFAULT_VERSION = -1}

local function Invalid(msg) return K.error("Invalid", msg, false) end

function M.info()
  local info = H.workflow_info()
  if info == nil then return nil, nil end
  return info
end

function M.exec(id, ...)
  if type(id) ~= "string" then K.invalid("workflow.exec: entry id must be a string", 2) end
  return H.workflow_exec(id, table.pack(...))
end

function M.version(change_id, min_supported, max_supported)
  if type(change_id) ~= "string" or change_id == "" then
    return nil, Invalid("workflow.version: change_id must be a non-empty string")
  end
  if math.type(min_supported) ~= "integer" or math.type(max_supported) ~= "integer" then
    return nil, Invalid("workflow.version: versions must be integers")
  end
  if min_supported > max_supported then
    return nil, Invalid("workflow.version: min_supported > max_supported")
  end
  return H.version(change_id, min_supported, max_supported)
end

local SEARCH_TYPES = {string = true, boolean = true, number = true}

function M.attrs(t)
  if type(t) ~= "table" then return nil, Invalid("workflow.attrs expects a table {search=, memo=}") end
  local search, memo = t.search, t.memo
  if search == nil and memo == nil then return nil, Invalid("workflow.attrs needs search or memo") end
  if search ~= nil and type(search) ~= "table" then return nil, Invalid("workflow.attrs: search must be a table") end
  if memo ~= nil and type(memo) ~= "table" then return nil, Invalid("workflow.attrs: memo must be a table") end
  if search then
    for k, v in pairs(search) do
      local ok = SEARCH_TYPES[type(v)]
      if type(v) == "table" then
        ok = true
        for _, s in ipairs(v) do if type(s) ~= "string" then ok = false end end
      end
      if not ok then return nil, Invalid("workflow.attrs: search attribute " .. tostring(k) .. " has an unsupported type") end
    end
  end
  return H.attrs(search, memo)
end

function M.history_length() return H.history_length() end
function M.history_size() return H.history_size() end

return M
