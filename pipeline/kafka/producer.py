"""The one Kafka producer factory. Everything that writes to Kafka from ordinary (non-faust) code
uses it: the outbox relay, admin replay, tests and benchmarks.

Keys and values are bytes: callers serialise their own JSON (schemas/ owns the envelopes), so the
bytes on the wire are exactly what was validated.
"""

from typing import Any

from kafka import KafkaProducer


def make_producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """An idempotent producer with acks from every in-sync replica.

    Idempotence keeps retries from writing duplicates or reordering a partition; retries are
    bounded by `delivery_timeout_ms` rather than a count. `overrides` are KafkaProducer settings
    for the rare caller that needs another value (a benchmark's linger, a chaos test's timeout).
    """
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "client_id": "central-kitchen",
        "enable_idempotence": True,
        "acks": "all",
        "retries": 2**31 - 1,
        "max_in_flight_requests_per_connection": 5,
        "delivery_timeout_ms": 120_000,
        "request_timeout_ms": 30_000,
        "linger_ms": 5,
        "allow_auto_create_topics": False,  # topics come from pipeline.kafka.topics.ensure_topics
    }
    config.update(overrides)
    return KafkaProducer(**config)
