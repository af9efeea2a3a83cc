"""The channel registry: sites, accounts and feeds. Credentials never leave the store."""

from fastapi import APIRouter, status

from pipeline.api.deps import AdminUser, CurrentUser, SessionDep
from pipeline.audit import record
from pipeline.org.units import get_unit
from pipeline.registry.targets import add_target, list_targets, public_config
from pipeline.store.models import ChannelTarget, Unit
from schemas.api import TargetCreate, TargetPublic

router = APIRouter(prefix="/targets", tags=["registry"])


def target_public(session, t: ChannelTarget) -> TargetPublic:
    return TargetPublic(code=t.code, channel=t.channel, unit=session.get(Unit, t.unit_id).code, name=t.name,
                        status=t.status, is_default=t.is_default, config=public_config(t.config))


@router.get("", response_model=list[TargetPublic])
def index(session: SessionDep, _: CurrentUser, channel: str | None = None, unit: str | None = None):
    unit_id = get_unit(session, unit).id if unit else None
    return [target_public(session, t) for t in list_targets(session, channel, unit_id)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TargetPublic)
def create(body: TargetCreate, session: SessionDep, user: AdminUser):
    target = add_target(session, body.code, body.channel, body.unit, body.name, body.config, body.is_default)
    record(session, user, "target.add", code=target.code, channel=target.channel)
    session.commit()
    return target_public(session, target)
