"""The life of a file: from the inbox (or a push) to the index or the quarantine, exactly once.

`states` names the states, `ledger` keeps each file's state in Redis, `batch` moves a batch of
files through the per-document steps of tasks/ and writes them through search/. Nothing here
knows about Celery or the processes that run it: worker/ composes and runs it.
"""
