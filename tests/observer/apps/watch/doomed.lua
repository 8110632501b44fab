-- Fails at once; nobody links or monitors it, so the node logs the failure.
return {main = function() error("doomed on purpose") end}
