"""The kitchen's Prometheus metrics (prometheus-client).

Two kinds, kept apart so that summing over processes never counts anything twice:

- **What this process did** — counters and histograms on the default registry, incremented by the
  channel agents, the router and the relay (`record_outcome`, `record_dead_letter`, …). Every
  worker exports its own on its endpoint; Prometheus adds them up across processes.
- **What the kitchen looks like now** — `KitchenCollector`, read at scrape time from the ledger,
  the outbox and Kafka's consumer-group offsets. It is the same for every process that asks, so
  only the API exports it (one scrape target per kitchen, however many workers run).
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from pipeline.clock import aware, now

log = logging.getLogger(__name__)

# Sign-off to published: most deliveries take well under a second here, a platform with retries
# minutes; the buckets cover both ends.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)

DELIVERY_OUTCOMES = Counter(
    "ck_delivery_outcomes", "Delivery attempts finished by this process, by channel and the state they left the "
    "ledger row in (succeeded, retrying, unknown, remote_pending, failed, dead) or skipped",
    ["channel", "state"])
DELIVERY_LATENCY = Histogram(
    "ck_delivery_latency_seconds", "From the moment an item event was due (sign-off, scheduled time or replay) "
    "to its delivery succeeding on the platform, per channel", ["channel"], buckets=LATENCY_BUCKETS)
RETRIES = Counter("ck_delivery_retries", "Deliveries sent to ck.retry.<channel> for another attempt", ["channel"])
DEAD_LETTERS = Counter("ck_dead_letters", "Messages written to ck.dead-letter by this process, by the topic "
                       "they came from (ck.items, ck.deliver.<channel>, ck.retry.<channel>)", ["source"])
PLATFORM_ERRORS = Counter(
    "ck_platform_errors", "Errors from platform calls, by channel, error class (retryable, "
    "permanent, unknown) and the platform's own code (errcode / error_code / HTTP status)",
    ["channel", "error_class", "code"])
ROUTED = Counter("ck_routed_deliveries", "Deliveries the router emitted to ck.deliver.<channel>", ["channel"])
RELAYED = Counter("ck_outbox_relayed", "Outbox rows this process sent to Kafka")
RELAY_FAILURES = Counter("ck_outbox_relay_failures", "Relay batches that failed (database or broker away)")


def record_outcome(channel: str, state: str, *, skipped: bool = False, retry: bool = False,
                   announced_at: datetime | None = None, error_class: str | None = None,
                   error_code: object = None) -> None:
    """One delivery attempt finished (called by the channel agent with execute.Outcome's fields)."""
    DELIVERY_OUTCOMES.labels(channel, "skipped" if skipped else str(state)).inc()
    if retry:
        RETRIES.labels(channel).inc()
    if error_class:
        PLATFORM_ERRORS.labels(channel, error_class, "" if error_code is None else str(error_code)).inc()
    if state == "succeeded" and announced_at is not None and not skipped:
        DELIVERY_LATENCY.labels(channel).observe(max(0.0, (now() - aware(announced_at)).total_seconds()))


def export_heartbeat(age: Callable[[], float]) -> None:
    """In a worker process (once): `ck_worker_heartbeat_age_seconds`, read from its heartbeat."""
    Gauge("ck_worker_heartbeat_age_seconds", "Seconds since this worker's event loop last ticked").set_function(age)


def record_dead_letter(source: str) -> None:
    DEAD_LETTERS.labels(source).inc()


def record_routed(channels: Iterable[str]) -> None:
    for channel in channels:
        ROUTED.labels(channel).inc()


class KitchenCollector(Collector):
    """The whole kitchen at scrape time: ledger rows by channel and state, the outbox backlog,
    consumer lag per group and topic, messages in dead letter. A source that cannot be read is
    reported as `ck_source_up{source=…} 0` instead of failing the scrape."""

    def __init__(self, kafka_bootstrap: str | None, topic_prefix: str = "", kafka_timeout: float = 5.0):
        self.bootstrap = kafka_bootstrap
        self.prefix = topic_prefix
        self.kafka_timeout = kafka_timeout
        self._admin = None
        self._lock = threading.Lock()

    def collect(self):
        up = GaugeMetricFamily("ck_source_up", "Whether the last scrape could read this source", labels=["source"])
        try:
            yield from self._ledger()
            up.add_metric(["database"], 1)
        except Exception:
            log.warning("metrics: the database could not be read", exc_info=True)
            up.add_metric(["database"], 0)
        if self.bootstrap:
            try:
                yield from self._kafka()
                up.add_metric(["kafka"], 1)
            except Exception:
                log.warning("metrics: Kafka offsets could not be read", exc_info=True)
                self._drop_admin()
                up.add_metric(["kafka"], 0)
        yield up

    # -- the database ---------------------------------------------------------------------------

    def _ledger(self):
        from sqlalchemy import func
        from sqlmodel import select

        from pipeline.store.db import session_scope
        from pipeline.store.models import Delivery, OutboxEntry

        moment = now()
        with session_scope() as session:
            counts = session.exec(select(Delivery.channel, Delivery.state, func.count())
                                  .group_by(Delivery.channel, Delivery.state)).all()
            due, oldest = session.exec(select(func.count(), func.min(OutboxEntry.available_at)).where(
                OutboxEntry.sent_at.is_(None), OutboxEntry.available_at <= moment)).one()
            scheduled = session.exec(select(func.count()).where(
                OutboxEntry.sent_at.is_(None), OutboxEntry.available_at > moment)).one()
        deliveries = GaugeMetricFamily("ck_deliveries", "Ledger rows (deliveries) by channel and current state",
                                       labels=["channel", "state"])
        for channel, state, count in counts:
            deliveries.add_metric([channel, state], count)
        yield deliveries
        yield GaugeMetricFamily("ck_outbox_backlog", "Outbox rows due and not yet sent to Kafka", value=due)
        yield GaugeMetricFamily("ck_outbox_scheduled", "Outbox rows held for a later publish time", value=scheduled)
        age = (moment - aware(oldest)).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("ck_outbox_oldest_due_seconds", "Age of the oldest due, unsent outbox row", value=age)

    # -- Kafka ----------------------------------------------------------------------------------

    def _admin_client(self):
        from kafka import KafkaAdminClient

        if self._admin is None:
            ms = int(self.kafka_timeout * 1000)
            self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="ck-metrics",
                                           request_timeout_ms=ms, bootstrap_timeout_ms=ms)
        return self._admin

    def _drop_admin(self) -> None:
        with self._lock:
            if self._admin is not None:
                try:
                    self._admin.close()
                except Exception:
                    pass
                self._admin = None

    def _kafka(self):
        with self._lock:  # kafka-python's admin client is not meant for several threads at once
            lag, dead = consumer_lag(self._admin_client(), self.prefix)
        family = GaugeMetricFamily("ck_consumer_lag", "Messages not yet consumed (end offset minus committed "
                                   "offset), per consumer group and topic", labels=["group", "topic"])
        for (group, topic), value in sorted(lag.items()):
            family.add_metric([group, topic], value)
        yield family
        yield GaugeMetricFamily("ck_dead_letter_messages", "Messages in the dead-letter topic (since retention)",
                                value=dead)


def consumer_lag(admin, prefix: str = "") -> tuple[dict[tuple[str, str], int], int]:
    """({(group, topic): lag}, messages in dead letter) for the kitchen's consumer groups
    (`<prefix>central-kitchen…`). A partition the group never committed counts from its start."""
    from kafka import TopicPartition
    from kafka.protocol.consumer.offsets import OffsetSpec

    from pipeline.kafka.topics import dead_letter_topic

    groups = [g["group_id"] for g in admin.list_groups() if g["group_id"].startswith(prefix + "central-kitchen")]
    committed = admin.list_group_offsets(groups) if groups else {}
    topics = {tp.topic for offsets in committed.values() for tp in offsets} | {dead_letter_topic()}
    described = admin.describe_topics(sorted(topics))
    partitions = [TopicPartition(t["name"], p["partition_index"]) for t in described if not t["error_code"]
                  for p in t["partitions"]]
    latest = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
    earliest = admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in partitions})
    lag: dict[tuple[str, str], int] = defaultdict(int)
    for group, offsets in committed.items():
        for topic in {tp.topic for tp in offsets}:
            for tp in (p for p in partitions if p.topic == topic):
                done = offsets[tp].offset if tp in offsets and offsets[tp].offset >= 0 else earliest[tp].offset
                lag[(group, topic)] += max(0, latest[tp].offset - done)
    dead = sum(latest[tp].offset - earliest[tp].offset for tp in partitions if tp.topic == dead_letter_topic())
    return dict(lag), dead


def exposition(accept: str | None, *registries: CollectorRegistry) -> tuple[bytes, str]:
    """One scrape over several registries, in the format the scraper asked for (text or OpenMetrics)."""
    encoder, content_type = choose_encoder(accept or "")
    joined = CollectorRegistry(auto_describe=False)
    for registry in registries:
        joined.register(_Forward(registry))
    return encoder(joined), content_type


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()
