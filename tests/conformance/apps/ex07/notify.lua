return function(request)
  return {notified = "approver-of-" .. request.id}
end
