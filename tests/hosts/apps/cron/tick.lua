return function() return "tick" end
