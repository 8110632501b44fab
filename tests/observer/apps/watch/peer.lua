-- Waits until it is cancelled.
return {main = function() process.events():receive() end}
