-- Logs one line with fields and returns.
local logger = require("logger")
return {main = function(text) logger:with({n = 1}):warn(text, {extra = "x"}); return text end}
