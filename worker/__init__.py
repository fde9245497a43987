"""The running service: Celery app, settings, watcher, ledger, local stack and CLI."""
