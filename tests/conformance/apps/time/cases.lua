return {main = function(case, host, name)
  assert(case == "check")
  local v, err = process.exec("t.time:checks", host, name)
  if err then error(err) end
  return v
end}
