"""索引号 (index number): `{组织机构代码}/{year}-{serial:05d}`, e.g. `008282882/2016-00712`.
Unique and never reused; the serial counts per unit and year."""

from sqlalchemy import update
from sqlmodel import Session, select

from pipeline.store.models import IndexCounter, Unit


def format_index_no(org_code: str, year: int, serial: int) -> str:
    return f"{org_code}/{year}-{serial:05d}"


def next_index_no(session: Session, unit: Unit, year: int) -> str:
    result = session.execute(
        update(IndexCounter)
        .where(IndexCounter.unit_id == unit.id, IndexCounter.year == year)
        .values(last=IndexCounter.last + 1)
    )
    if result.rowcount == 0:
        session.add(IndexCounter(unit_id=unit.id, year=year, last=1))
        session.flush()
        serial = 1
    else:
        serial = session.exec(
            select(IndexCounter.last).where(IndexCounter.unit_id == unit.id, IndexCounter.year == year)
        ).one()
    return format_index_no(unit.org_code, year, serial)
