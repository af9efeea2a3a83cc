"""撤稿: withdraw an item from every channel that received any revision of it."""

from sqlmodel import Session

from pipeline.audit import record
from pipeline.clock import now
from pipeline.config import Settings
from pipeline.distribution.outbox import announce_takedown, cancel_unsent
from pipeline.errors import Conflict, Forbidden
from pipeline.items.service import get_item, get_revision
from pipeline.org.roles import TAKEDOWN_ROLES
from pipeline.store.models import Item, User


def take_down(session: Session, actor: User, item_id: int, reason: str, settings: Settings) -> Item:
    if actor.role not in TAKEDOWN_ROLES:
        raise Forbidden("only a signer or an admin may take an item down")
    item = get_item(session, item_id, for_update=True)
    if item.status == "withdrawn":
        raise Conflict("the item is already withdrawn")
    shown = item.published_revision or item.approved_revision
    if shown is None:
        raise Conflict("the item was never approved, so there is nothing to take down; edit the draft instead")
    cancelled = cancel_unsent(session, item.id)
    item.status = "withdrawn"
    item.review_level = 0
    item.updated_at = now()
    announce_takedown(session, item, get_revision(session, item, shown), reason, settings)
    record(session, actor, "item.takedown", item_id=item.id, revision=shown, reason=reason,
           cancelled_unsent_events=cancelled)
    session.flush()
    return item
