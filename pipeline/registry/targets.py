"""Adding, finding and resolving channel targets (a unit's sites, accounts and feeds)."""

from sqlmodel import Session, select

from pipeline.errors import Conflict, Invalid, NotFound
from pipeline.org.units import get_unit
from pipeline.store.models import ChannelTarget, Item, ItemRevision, Unit
from schemas.delivery import Channel

SECRET_KEYS = {"secret", "access_token", "webhook_secret", "appsecret", "password", "token"}


def add_target(session: Session, code: str, channel: str, unit_code: str, name: str, config: dict | None = None,
               is_default: bool = True) -> ChannelTarget:
    try:
        channel = Channel(channel).value
    except ValueError:
        raise Invalid(f"channel {channel!r} is not one of {', '.join(c.value for c in Channel)}") from None
    if session.exec(select(ChannelTarget).where(ChannelTarget.code == code)).first():
        raise Conflict(f"target {code!r} already exists")
    unit = get_unit(session, unit_code)
    target = ChannelTarget(code=code, channel=channel, unit_id=unit.id, name=name, config=config or {},
                           is_default=is_default)
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
    return [t for t in chosen if t.status == "active"]


def home_portal(session: Session, unit: Unit) -> ChannelTarget | None:
    """The unit's own portal site: where its items' canonical URLs live."""
    return session.exec(
        select(ChannelTarget).where(ChannelTarget.unit_id == unit.id, ChannelTarget.channel == Channel.portal,
                                    ChannelTarget.status == "active")
        .order_by(ChannelTarget.is_default.desc(), ChannelTarget.id)
    ).first()
