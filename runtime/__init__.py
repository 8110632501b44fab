"""The kernel of orrery: errors, PIDs, durations, the registry, the codec and the Lua engine."""
