"""The audit log, read-only."""

from fastapi import APIRouter, Query

from pipeline.api.deps import MAX_ROW_ID, CurrentUser, SessionDep, row_id_filter
from pipeline.audit import entries
from pipeline.clock import aware
from pipeline.store.models import User
from schemas.api import AuditPublic

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditPublic])
def audit(session: SessionDep, _: CurrentUser, item: int | None = row_id_filter(),
          after: int = Query(0, ge=0, le=MAX_ROW_ID), limit: int = Query(500, ge=1, le=5000)):
    names = {}
    out = []
    for e in entries(session, item_id=item, limit=limit, after_id=after):
        if e.actor_id and e.actor_id not in names:
            names[e.actor_id] = session.get(User, e.actor_id).name
        out.append(AuditPublic(id=e.id, at=aware(e.at), actor=names.get(e.actor_id), action=e.action,
                               item=e.item_id, revision=e.revision, detail=e.detail))
    return out
