"""Distribution status, history, replay and takedown."""

from datetime import datetime

from fastapi import APIRouter, Query
from sqlmodel import select

from pipeline.api.deps import MAX_ROW_ID, AdminUser, CurrentUser, RowId, SessionDep, SettingsDep, row_id_filter
from pipeline.distribution.public import delivery_public, log_public
from pipeline.distribution.replay import ReplayFilter, replay
from pipeline.distribution.takedown import take_down
from pipeline.errors import NotFound
from pipeline.items.public import item_public
from pipeline.items.service import get_item
from pipeline.store.models import Delivery, DeliveryLog
from schemas.api import DeliveryLogPublic, DeliveryPublic, ItemPublic, ReplayRequest, ReplayResult, TakedownRequest

router = APIRouter(tags=["distribution"])


@router.get("/items/{item_id}/distributions", response_model=list[DeliveryPublic])
def for_item(item_id: RowId, session: SessionDep, _: CurrentUser):
    get_item(session, item_id)
    rows = session.exec(select(Delivery).where(Delivery.item_id == item_id).order_by(Delivery.id))
    return [delivery_public(d) for d in rows]


@router.get("/distributions", response_model=list[DeliveryPublic])
def index(session: SessionDep, _: CurrentUser, state: str | None = None, channel: str | None = None,
          target: str | None = None, item: int | None = row_id_filter(), since: datetime | None = None,
          limit: int = Query(200, ge=1, le=5000), offset: int = Query(0, ge=0, le=MAX_ROW_ID)):
    query = select(Delivery)
    for column, value in ((Delivery.state, state), (Delivery.channel, channel), (Delivery.target_code, target),
                          (Delivery.item_id, item)):
        if value is not None:
            query = query.where(column == value)
    if since:
        query = query.where(Delivery.updated_at >= since)
    rows = session.exec(query.order_by(Delivery.id.desc()).offset(offset).limit(limit))
    return [delivery_public(d) for d in rows]


@router.get("/distributions/{delivery_id}/history", response_model=list[DeliveryLogPublic])
def history(delivery_id: RowId, session: SessionDep, _: CurrentUser):
    if session.get(Delivery, delivery_id) is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    rows = session.exec(select(DeliveryLog).where(DeliveryLog.delivery_id == delivery_id).order_by(DeliveryLog.id))
    return [log_public(e) for e in rows]


@router.post("/distributions/replay", response_model=ReplayResult)
def replay_route(body: ReplayRequest, session: SessionDep, settings: SettingsDep, user: AdminUser):
    flt = ReplayFilter(states=list(body.states), channel=body.channel, target=body.target, item_id=body.item,
                       since=body.since, force=body.force, delivery_ids=body.deliveries)
    summary = replay(session, user, flt, settings)
    session.commit()
    return ReplayResult(events=summary.events, deliveries=summary.deliveries,
                        skipped_withdrawn=summary.skipped_withdrawn)


@router.post("/items/{item_id}/takedown", response_model=ItemPublic)
def takedown_route(item_id: RowId, body: TakedownRequest, session: SessionDep, settings: SettingsDep,
                   user: CurrentUser):
    item = take_down(session, user, item_id, body.reason, settings)
    session.commit()
    return item_public(session, item, settings)
