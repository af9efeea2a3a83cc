"""Items: create, revise, read, list, submit, review."""

from fastapi import APIRouter, Query, status

from pipeline.api.deps import MAX_ROW_ID, CurrentUser, RowId, SessionDep, SettingsDep
from pipeline.items.public import item_public, item_summary
from pipeline.items.service import create_item, get_item, list_items, revise_item
from pipeline.review import workflow
from schemas.api import ItemCreate, ItemPublic, ItemSummary, ItemUpdate, ReviewCreate

router = APIRouter(prefix="/items", tags=["items"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ItemPublic)
def create(body: ItemCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    item = create_item(session, user, body, settings)
    session.commit()
    return item_public(session, item, settings)


@router.get("", response_model=list[ItemSummary])
def index(session: SessionDep, _: CurrentUser, status: str | None = None, unit: str | None = None,
          kind: str | None = None, level: int | None = Query(None, ge=1, le=9),
          limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=MAX_ROW_ID)):
    items = list_items(session, status=status, unit=unit, kind=kind, level=level, limit=limit, offset=offset)
    return [item_summary(session, i) for i in items]


@router.get("/{item_id}", response_model=ItemPublic)
def show(item_id: RowId, session: SessionDep, settings: SettingsDep, _: CurrentUser):
    return item_public(session, get_item(session, item_id), settings)


@router.put("/{item_id}", response_model=ItemPublic)
def revise(item_id: RowId, body: ItemUpdate, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    item = revise_item(session, user, item_id, body, settings)
    session.commit()
    return item_public(session, item, settings)


@router.post("/{item_id}/submit", response_model=ItemPublic)
def submit(item_id: RowId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    item = workflow.submit(session, user, item_id, settings)
    session.commit()
    return item_public(session, item, settings)


@router.post("/{item_id}/reviews", response_model=ItemPublic)
def review(item_id: RowId, body: ReviewCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    item = workflow.review(session, user, item_id, body, settings)
    session.commit()
    return item_public(session, item, settings)
