return function(name, order)
  return name .. ":" .. order
end
