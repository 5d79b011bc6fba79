"""Background jobs: an outbox in the database, run by arq workers or the embedded runner.

Services call ``enqueue`` inside their transaction; ``@job`` and ``cron`` declare the
work (see ``fabcom.jobs.registry``)."""
