"""Background work: durable jobs as database rows, the worker loop, cron schedules, the outbox."""
