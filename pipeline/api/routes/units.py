"""Units (organisations)."""

from fastapi import APIRouter, status
from sqlmodel import select

from pipeline.api.deps import AdminUser, CurrentUser, SessionDep
from pipeline.audit import record
from pipeline.org.units import add_unit
from pipeline.store.models import Unit
from schemas.api import UnitCreate, UnitPublic

router = APIRouter(prefix="/units", tags=["units"])


def _public(session, unit: Unit) -> UnitPublic:
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    return UnitPublic(code=unit.code, name=unit.name, parent=parent.code if parent else None, org_code=unit.org_code)


@router.get("", response_model=list[UnitPublic])
def index(session: SessionDep, _: CurrentUser):
    return [_public(session, u) for u in session.exec(select(Unit).order_by(Unit.id))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UnitPublic)
def create(body: UnitCreate, session: SessionDep, user: AdminUser):
    unit = add_unit(session, body.code, body.name, body.parent, body.org_code)
    record(session, user, "unit.add", code=unit.code)
    session.commit()
    return _public(session, unit)
