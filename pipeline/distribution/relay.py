"""The outbox relay: sends committed outbox rows to Kafka with the idempotent producer (acks=all)
and marks them sent. A crash between commit and send loses nothing (the row is still unsent); a
crash between send and mark sends the event again, which downstream tolerates (same event id).

Several relays may run at once on PostgreSQL: rows are taken with `FOR UPDATE SKIP LOCKED`."""

import logging
import threading

from kafka import KafkaProducer
from sqlmodel import Session, select

from pipeline.clock import now
from pipeline.config import Settings
from pipeline.observability.metrics import RELAY_FAILURES, RELAYED
from pipeline.store.db import session_scope
from pipeline.store.models import Item, OutboxEntry
from schemas.delivery import Operation

log = logging.getLogger(__name__)
SEND_TIMEOUT = 30


def mark_distributed(session: Session, entry: OutboxEntry) -> None:
    """A publish or correct event is on its way: the item is published at that revision."""
    if entry.event_type not in (Operation.publish, Operation.correct) or entry.item_id is None:
        return
    item = session.get(Item, entry.item_id)
    if item is None or item.status == "withdrawn":
        return
    item.published_revision = max(item.published_revision or 0, entry.revision or 0)
    if item.status == "approved" and item.approved_revision == entry.revision:
        item.status = "published"
    session.add(item)


def relay_once(producer: KafkaProducer, settings: Settings) -> int:
    """Send one batch of due outbox rows; returns how many were sent."""
    with session_scope() as session:
        query = (select(OutboxEntry).where(OutboxEntry.sent_at.is_(None), OutboxEntry.available_at <= now())
                 .order_by(OutboxEntry.id).limit(settings.relay_batch))
        rows = list(session.exec(query.with_for_update(skip_locked=True)))
        if not rows:
            return 0
        futures = [(row, producer.send(row.topic, key=row.key.encode(), value=row.payload.encode("utf-8")))
                   for row in rows]
        producer.flush(timeout=SEND_TIMEOUT)
        sent = 0
        for row, future in futures:
            try:
                future.get(timeout=SEND_TIMEOUT)
            except Exception as exc:  # this row stays unsent and is tried again next batch
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("outbox %s not sent: %s", row.event_id, row.last_error)
                continue
            row.sent_at = now()
            row.attempts += 1
            mark_distributed(session, row)
            sent += 1
        return sent


def run_relay(producer: KafkaProducer, settings: Settings, stop: threading.Event) -> None:
    """Relay until `stop` is set; idle briefly when the outbox is empty or the broker is away."""
    while not stop.is_set():
        try:
            sent = relay_once(producer, settings)
            RELAYED.inc(sent)
        except Exception:
            RELAY_FAILURES.inc()
            log.exception("relay batch failed; retrying")
            sent = 0
            stop.wait(1.0)
        if not sent:
            stop.wait(settings.relay_idle_seconds)
