"""Writing and reading audit entries. Entries are only ever inserted."""

from typing import Any

from sqlmodel import Session, select

from pipeline.store.models import AuditEntry, User


def record(session: Session, actor: User | None, action: str, *, item_id: int | None = None,
           revision: int | None = None, **detail: Any) -> AuditEntry:
    entry = AuditEntry(actor_id=actor.id if actor else None, action=action, item_id=item_id,
                       revision=revision, detail=detail)
    session.add(entry)
    return entry


def entries(session: Session, item_id: int | None = None, limit: int = 500, after_id: int = 0) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.id > after_id)
    if item_id is not None:
        query = query.where(AuditEntry.item_id == item_id)
    return list(session.exec(query.order_by(AuditEntry.id).limit(limit)))
