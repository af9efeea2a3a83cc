"""Kafka plumbing: topic names, the one producer factory and a local single-node broker."""

from pipeline.kafka.producer import make_producer
from pipeline.kafka.topics import (
    all_topics,
    dead_letter_topic,
    deliver_topic,
    ensure_topics,
    items_topic,
    retry_topic,
)

__all__ = [
    "all_topics",
    "dead_letter_topic",
    "deliver_topic",
    "ensure_topics",
    "items_topic",
    "make_producer",
    "retry_topic",
]
