"""The durable host: Lua processes as Temporal workflows, through the ``temporalio`` SDK."""
