"""Creating and finding units; the unit tree (city → districts → departments)."""

import zlib

from sqlmodel import Session, select

from pipeline.errors import Conflict, Invalid, NotFound
from pipeline.store.models import Unit


def default_org_code(code: str) -> str:
    """A stable 9-digit stand-in for the 组织机构代码 when none is given."""
    return f"{zlib.crc32(code.encode('utf-8')) % 1_000_000_000:09d}"


def add_unit(session: Session, code: str, name: str, parent: str | None = None, org_code: str | None = None) -> Unit:
    code = code.strip()
    if not code or not code.replace("-", "").replace("_", "").isalnum() or not code.isascii():
        raise Invalid(f"unit code {code!r} must be ASCII letters, digits, '-' or '_'")
    if session.exec(select(Unit).where(Unit.code == code)).first():
        raise Conflict(f"unit {code!r} already exists")
    parent_unit = get_unit(session, parent) if parent else None
    unit = Unit(code=code, name=name.strip(), parent_id=parent_unit.id if parent_unit else None,
                org_code=org_code or default_org_code(code))
    session.add(unit)
    session.flush()
    return unit


def get_unit(session: Session, code: str) -> Unit:
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist")
    return unit


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The unit's parents, nearest first."""
    chain: list[Unit] = []
    seen = {unit.id}
    current = unit
    while current.parent_id is not None and current.parent_id not in seen:
        current = session.get(Unit, current.parent_id)
        seen.add(current.id)
        chain.append(current)
    return chain


def is_same_or_ancestor(session: Session, maybe_ancestor_id: int, unit: Unit) -> bool:
    return maybe_ancestor_id == unit.id or any(u.id == maybe_ancestor_id for u in ancestors(session, unit))
