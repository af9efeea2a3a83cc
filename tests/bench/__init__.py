"""Benchmarks of distribution: figures printed as a table and written as JSON, never pass/fail.

    .venv/bin/python -m tests.bench                 # 1,000 items, baselines beside them (~15 min here)
    .venv/bin/python -m tests.bench --large         # adds 10,000 items (scaling; see README for time)
    .venv/bin/python -m tests.bench --help

Everything is real: a SQLite store of the bench's own, the Kafka broker (a local one, or
`CK_KAFKA_BOOTSTRAP`), `ck worker` / `ck relay` processes and the platform emulators in a process
of their own (`tests.bench.platforms`). Only the platforms' quotas are raised: the bench measures
the kitchen, not an account's hourly posting limit.
"""
