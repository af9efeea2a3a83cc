"""Kafka plumbing: topic names, the one producer factory and a local single-node broker."""

from pipeline.kafka.producer import make_producer
from pipeline.kafka.topics import DEAD_LETTER, ITEMS, all_topics, deliver_topic, ensure_topics, retry_topic

__all__ = [
    "DEAD_LETTER",
    "ITEMS",
    "all_topics",
    "deliver_topic",
    "ensure_topics",
    "make_producer",
    "retry_topic",
]
