return function(v) return v end
