"""Replaying failed distributions: new outbox events for the matching deliveries (never an offset
rewind). Deliveries that already succeeded are skipped unless forced."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from pipeline.audit import record
from pipeline.distribution import ledger
from pipeline.config import Settings
from pipeline.distribution.outbox import enqueue, snapshot_of
from pipeline.errors import Invalid
from pipeline.items.service import get_revision
from pipeline.store.models import Delivery, Item, User
from schemas.delivery import DeliveryState, Operation
from schemas.events import ItemEvent

DEFAULT_STATES = [DeliveryState.failed.value, DeliveryState.dead.value, DeliveryState.unknown.value]


@dataclass
class ReplayFilter:
    states: list[str] = field(default_factory=lambda: list(DEFAULT_STATES))
    channel: str | None = None
    target: str | None = None
    item_id: int | None = None
    since: datetime | None = None
    force: bool = False
    delivery_ids: list[int] | None = None  # just these ledger rows (still only in `states`)


@dataclass
class ReplaySummary:
    events: int = 0
    deliveries: list[int] = field(default_factory=list)
    skipped_withdrawn: int = 0


def matching(session: Session, flt: ReplayFilter) -> list[Delivery]:
    states = set(flt.states)
    unknown = states - {s.value for s in DeliveryState}
    if unknown:
        raise Invalid(f"unknown state(s): {', '.join(sorted(unknown))}")
    if DeliveryState.succeeded.value in states and not flt.force:
        raise Invalid("replaying succeeded deliveries posts them again: say force to mean it")
    query = select(Delivery).where(Delivery.state.in_(states))
    if flt.channel:
        query = query.where(Delivery.channel == flt.channel)
    if flt.target:
        query = query.where(Delivery.target_code == flt.target)
    if flt.item_id is not None:
        query = query.where(Delivery.item_id == flt.item_id)
    if flt.since:
        query = query.where(Delivery.updated_at >= flt.since)
    if flt.delivery_ids is not None:
        query = query.where(Delivery.id.in_(flt.delivery_ids))
    return list(session.exec(query.order_by(Delivery.id)))


def replay(session: Session, actor: User, flt: ReplayFilter, settings: Settings) -> ReplaySummary:
    summary = ReplaySummary()
    groups: dict[tuple[int, int, str], list[Delivery]] = defaultdict(list)
    for d in matching(session, flt):
        groups[(d.item_id, d.revision, d.operation)].append(d)
    for (item_id, revision, operation), rows in groups.items():
        item = session.get(Item, item_id)
        if operation != Operation.takedown and item.status == "withdrawn":
            summary.skipped_withdrawn += len(rows)
            continue
        event = ItemEvent.from_snapshot(snapshot_of(get_revision(session, item, revision)), Operation(operation),
                                        only_targets=sorted({r.target_code for r in rows}), force=flt.force,
                                        reason="replay", media_base_url=settings.public_base_url)
        enqueue(session, event)
        for row in rows:  # finished rows wait for the replay; unknown ones still get verified first
            if row.state in (DeliveryState.failed, DeliveryState.dead, DeliveryState.succeeded):
                ledger.move(session, row, DeliveryState.pending, event_id=event.event_id,
                            detail={"replay": event.event_id, "by": actor.name, "forced": flt.force})
        summary.events += 1
        summary.deliveries += [r.id for r in rows]
    record(session, actor, "distribution.replay", states=flt.states, channel=flt.channel, target=flt.target,
           item=flt.item_id, only=flt.delivery_ids, force=flt.force, events=summary.events, deliveries=len(summary.deliveries))
    session.flush()
    return summary
