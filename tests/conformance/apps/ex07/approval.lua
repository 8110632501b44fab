local funcs = require("funcs")
local time = require("time")
local workflow = require("workflow")

local function main(request)
  assert(funcs.call("ex.approval:notify_approver", request))
  local id = workflow.info().workflow_id
  local decisions = process.listen("decision", {message = true})
  local events = process.events()
  local expiry = time.after(request.wait)

  local r = channel.select{decisions:case_receive(), events:case_receive(), expiry:case_receive()}
  if r.channel == expiry then
    return {id = id, status = "expired"}
  elseif r.channel == events then               -- without children only CANCEL can arrive
    return {id = id, status = "withdrawn", reason = r.value.reason}
  end
  local verdict = r.value:payload():data()
  workflow.attrs({memo = {decided_by = verdict.by}})
  return {
    id = id,
    status = verdict.approved and "approved" or "rejected",
    by = verdict.by,
    sender_known = r.value:from() ~= nil,
  }
end

return {main = main}
