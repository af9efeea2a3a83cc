"""Central Kitchen pipeline: the store, review, gates, outbox, Kafka agents, API and CLI."""
