"""Distribution: outbox, routing to targets, the delivery ledger, retries, replay and takedown."""
