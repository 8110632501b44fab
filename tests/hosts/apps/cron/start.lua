-- starts the cron workflow; its first run waits for the next cron time
return function(schedule)
  return assert(process.with_options({["temporal.workflow.cron_schedule"] = schedule})
    :with_name("cron-demo"):spawn("cron:tick", "app:worker"))
end
