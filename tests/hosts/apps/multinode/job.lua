local funcs = require("funcs")
return function() return assert(funcs.call("multi:where")) end
