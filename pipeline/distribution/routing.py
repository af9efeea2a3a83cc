"""The router's work for one item event: which targets, which operation each, one ledger row per
delivery, and the deliver messages to emit together (分发同时)."""

from sqlmodel import Session

from pipeline.distribution import ledger
from pipeline.errors import NotFound
from pipeline.items.service import get_revision
from pipeline.registry.targets import targets_for
from pipeline.store.models import Item
from schemas.delivery import DeliveryState as S
from schemas.delivery import Operation
from schemas.events import DeliverMessage, ItemEvent

RESEND_AS_IS = {S.pending.value, S.unknown.value, S.remote_pending.value, S.retrying.value}


def operations_for(event: ItemEvent, wanted: dict[str, str], held: dict[str, str]) -> dict[str, tuple[str, Operation]]:
    """target → (channel, operation). Pure: a correction reaches every target holding an earlier
    revision and is published fresh where the item is new; a takedown reaches every holder."""
    if event.type == Operation.takedown:
        plan = {code: (channel, Operation.takedown) for code, channel in held.items()}
    else:
        plan = {code: (channel, Operation.correct if code in held else Operation.publish)
                for code, channel in wanted.items()}
        if event.type == Operation.correct:
            plan |= {code: (channel, Operation.correct) for code, channel in held.items()}
    if event.only_targets is not None:
        plan = {code: op for code, op in plan.items() if code in event.only_targets}
    return plan


def plan_deliveries(session: Session, event: ItemEvent) -> list[DeliverMessage]:
    item = session.get(Item, event.item_id)
    if item is None:
        raise NotFound(f"item {event.item_id} is not in the store")
    if event.type != Operation.takedown and item.status == "withdrawn":
        return []
    revision = get_revision(session, item, event.revision)
    wanted = {t.code: t.channel for t in targets_for(session, item, revision)} if event.type != Operation.takedown else {}
    # A publish or correct event corrects what targets hold of EARLIER revisions; this revision's own
    # rows mean the same event came again (a relay resent it after a crash) and are found by `ensure`.
    held = ledger.holders(session, item.id, None if event.type == Operation.takedown else revision.number)
    messages = []
    plan = operations_for(event, wanted, held)
    rows = ledger.ensure_many(session, item_id=item.id, revision=revision.number, event_id=event.event_id, plan=plan)
    for code, (channel, operation) in plan.items():
        row, created = rows[code]
        if not created:
            if row.state == S.succeeded and not event.force:
                continue
            if row.state in (S.failed, S.dead, S.succeeded):
                ledger.move(session, row, S.pending, event_id=event.event_id,
                            detail={"replay": event.event_id, "forced": event.force})
            elif row.state not in RESEND_AS_IS:
                continue  # in flight right now: its owner finishes it
        messages.append(DeliverMessage(delivery_id=row.id, item_id=item.id, revision=revision.number,
                                       channel=channel, target=code, operation=operation,
                                       attempt=row.attempts, event_id=event.event_id))
    return messages
