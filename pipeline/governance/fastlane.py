"""Emergency items jump every queue (突发事件): their deliveries travel on priority topics
(`ck.deliver.<channel>.urgent`, retries on `ck.retry.<channel>.urgent`) that channel workers consume
with agents of their own, so they never wait behind a backlog of ordinary items. Reviewers see them
first (`awaiting_review`)."""

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

from pipeline.clock import aware
from pipeline.store.models import Item, ItemRevision

URGENT_KINDS = frozenset({"emergency"})


def is_urgent(kind: str | None) -> bool:
    return kind in URGENT_KINDS


def urgent_items(session: Session, item_ids: Iterable[int]) -> set[int]:
    """The ids among `item_ids` whose items take the fast lane."""
    ids = set(item_ids)
    if not ids:
        return set()
    rows = session.exec(select(Item.id).where(Item.id.in_(ids), Item.kind.in_(URGENT_KINDS)))
    return set(rows)


def awaiting_review(session: Session, unit_ids: Iterable[int] | None = None) -> list[dict]:
    """Emergency items waiting for a review decision, oldest first: what the console alerts about."""
    query = select(Item).where(Item.kind.in_(URGENT_KINDS), Item.status == "in_review")
    if unit_ids is not None:
        query = query.where(Item.unit_id.in_(list(unit_ids)))
    out = []
    for item in session.exec(query.order_by(Item.updated_at)):
        revision = session.exec(select(ItemRevision).where(ItemRevision.item_id == item.id,
                                                           ItemRevision.number == item.current_revision)).one()
        waiting_since: datetime = aware(item.updated_at)
        out.append({"id": item.id, "title": revision.title, "level": item.review_level,
                    "waiting_since": waiting_since, "unit_id": item.unit_id})
    return out
