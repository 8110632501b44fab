-- the PID of the frame names the node that ran this activity
return function() return process.pid() end
