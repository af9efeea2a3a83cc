"""Adding, finding and resolving channel targets (a unit's sites, accounts and feeds)."""

from sqlmodel import Session, select

from pipeline.config import get_settings
from pipeline.errors import Conflict, Invalid, NotFound
from pipeline.governance.credentials import SECRET_KEYS, protect
from pipeline.governance.lifecycle import Status, account_limit_problem, limited_channels
from pipeline.org.units import get_unit
from pipeline.store.models import ChannelTarget, Item, ItemRevision, Unit
from schemas.delivery import Channel


def add_target(session: Session, code: str, channel: str, unit_code: str, name: str, config: dict | None = None,
               is_default: bool = True, status: str = Status.active, responsible_person: str | None = None
               ) -> ChannelTarget:
    """Register a target; its secrets are sealed (`pipeline.governance.credentials`). A unit keeps
    at most CK_ACCOUNTS_PER_PLATFORM accounts per platform."""
    try:
        channel = Channel(channel).value
    except ValueError:
        raise Invalid(f"channel {channel!r} is not one of {', '.join(c.value for c in Channel)}") from None
    if session.exec(select(ChannelTarget).where(ChannelTarget.code == code)).first():
        raise Conflict(f"target {code!r} already exists")
    unit = get_unit(session, unit_code)
    check_account_limit(session, unit, channel)
    target = ChannelTarget(code=code, channel=channel, unit_id=unit.id, name=name, is_default=is_default,
                           status=Status(status).value, responsible_person=responsible_person)
    protect(target, config or {}, get_settings())
    session.add(target)
    session.flush()
    return target


def get_target(session: Session, code: str) -> ChannelTarget:
    target = session.exec(select(ChannelTarget).where(ChannelTarget.code == code)).first()
    if target is None:
        raise NotFound(f"target {code!r} does not exist")
    return target


def list_targets(session: Session, channel: str | None = None, unit_id: int | None = None) -> list[ChannelTarget]:
    query = select(ChannelTarget)
    if channel:
        query = query.where(ChannelTarget.channel == channel)
    if unit_id is not None:
        query = query.where(ChannelTarget.unit_id == unit_id)
    return list(session.exec(query.order_by(ChannelTarget.id)))


def public_config(config: dict) -> dict:
    """The config without credentials, for the API and logs."""
    return {k: ("***" if k.lower() in SECRET_KEYS else v) for k, v in config.items()}


def targets_for(session: Session, item: Item, revision: ItemRevision) -> list[ChannelTarget]:
    """The item's own targeting when it names targets, else every default target of its unit."""
    if revision.targets:
        found = {t.code: t for t in session.exec(select(ChannelTarget).where(ChannelTarget.code.in_(revision.targets)))}
        missing = [c for c in revision.targets if c not in found]
        if missing:
            raise Invalid(f"unknown targets: {', '.join(missing)}")
        chosen = [found[c] for c in revision.targets]
    else:
        chosen = list(session.exec(
            select(ChannelTarget).where(ChannelTarget.unit_id == item.unit_id, ChannelTarget.is_default)
            .order_by(ChannelTarget.id)
        ))
    # a target the item names is kept whatever its status, so its refusal shows in the ledger
    return chosen if revision.targets else [t for t in chosen if t.status == "active"]


def check_account_limit(session: Session, unit: Unit, channel: str) -> None:
    """Refuse a second account on one platform for one unit (closed ones do not count)."""
    settings = get_settings()
    held = session.exec(select(ChannelTarget.code).where(
        ChannelTarget.unit_id == unit.id, ChannelTarget.channel == channel, ChannelTarget.status != Status.closed))
    problem = account_limit_problem(unit.code, channel, list(held), settings.accounts_per_platform,
                                    limited_channels(settings.account_limit_channels))
    if problem:
        raise Conflict(problem)


def home_portal(session: Session, unit: Unit) -> ChannelTarget | None:
    """The unit's own portal site: where its items' canonical URLs live."""
    return session.exec(
        select(ChannelTarget).where(ChannelTarget.unit_id == unit.id, ChannelTarget.channel == Channel.portal,
                                    ChannelTarget.status == "active")
        .order_by(ChannelTarget.is_default.desc(), ChannelTarget.id)
    ).first()
