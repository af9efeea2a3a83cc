"""Running Central Kitchen in the open: Prometheus metrics, health and readiness, structured logs.

    logs.py      JSON (or text on a terminal) log lines carrying the delivery being worked on;
                 credentials and tokens redacted from every line
    metrics.py   the kitchen's Prometheus metrics: what this process did (counters, latency
                 histograms) and what the whole kitchen looks like now (ledger, outbox, lag)
    health.py    liveness and readiness checks (database, Kafka, the worker's event loop)
    server.py    the small HTTP endpoint of `ck worker` / `ck relay` (/metrics /healthz /readyz)
    api.py       the same three paths on the API

See deploy/README.md for the metric names and how to scrape them.
"""
