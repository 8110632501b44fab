return function(x) return string.upper(x) end
