"""Writing item events to the outbox, in the caller's transaction (the relay sends them later).

Sign-off, takedown and replay all come through here, so every distribution takes the same path:
outbox → `ck.items` → router → channel topics. Nothing ever rewinds a Kafka offset."""

from datetime import datetime

from sqlmodel import Session, select

from pipeline.clock import aware, now
from pipeline.config import Settings
from pipeline.kafka.topics import items_topic
from pipeline.store.models import Item, ItemRevision, OutboxEntry
from schemas.delivery import Operation
from schemas.events import ItemEvent
from schemas.item import ItemSnapshot


def enqueue(session: Session, event: ItemEvent, available_at: datetime | None = None) -> OutboxEntry:
    entry = OutboxEntry(event_id=event.event_id, topic=items_topic(), key=str(event.item_id),
                        payload=event.to_bytes().decode("utf-8"), item_id=event.item_id,
                        event_type=event.type.value, revision=event.revision,
                        available_at=available_at or now())
    session.add(entry)
    return entry


def snapshot_of(revision: ItemRevision) -> ItemSnapshot:
    return ItemSnapshot.model_validate(revision.snapshot)


def announce_approval(session: Session, item: Item, revision: ItemRevision, settings: Settings) -> OutboxEntry:
    """Sign-off: publish the first approved revision, correct every later one. Held until publish_at."""
    operation = Operation.correct if item.published_revision else Operation.publish
    event = ItemEvent.from_snapshot(snapshot_of(revision), operation, media_base_url=settings.public_base_url)
    return enqueue(session, event, available_at=max(now(), aware(item.publish_at) or now()))


def announce_takedown(session: Session, item: Item, revision: ItemRevision, reason: str,
                      settings: Settings) -> OutboxEntry:
    event = ItemEvent.from_snapshot(snapshot_of(revision), Operation.takedown, reason=reason,
                                    media_base_url=settings.public_base_url)
    return enqueue(session, event)


def cancel_unsent(session: Session, item_id: int) -> int:
    """Drop events for an item that have not left yet (a scheduled publish taken down first)."""
    rows = session.exec(select(OutboxEntry).where(OutboxEntry.item_id == item_id, OutboxEntry.sent_at.is_(None)))
    count = 0
    for row in rows:
        session.delete(row)
        count += 1
    return count
