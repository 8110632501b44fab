-- The trivial activity: returns its argument.
return function(x) return x end
