return function(n) return n * n end
