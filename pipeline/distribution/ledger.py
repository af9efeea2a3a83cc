"""Ledger rows in the database: created once per (item revision, target, operation), moved only
through `ledger_rules`, every move written to the delivery log."""

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pipeline.clock import now
from pipeline.distribution.ledger_rules import check_transition
from pipeline.store.models import Delivery, DeliveryLog
from schemas.delivery import DeliveryState as S
from schemas.delivery import Operation, Receipt

HELD = (S.succeeded, S.unknown, S.in_flight, S.remote_pending, S.retrying)  # may exist on the platform


def log(session: Session, delivery: Delivery, from_state: str | None, to_state: str, **detail: Any) -> None:
    session.add(DeliveryLog(delivery_id=delivery.id, from_state=from_state, to_state=to_state,
                            attempt=delivery.attempts, detail=detail))


def ensure(session: Session, *, item_id: int, revision: int, channel: str, target: str, operation: Operation,
           event_id: str) -> tuple[Delivery, bool]:
    """The ledger row for this delivery, created if new. Returns (row, created)."""
    keys = dict(item_id=item_id, revision=revision, target_code=target, operation=operation.value)
    existing = session.exec(select(Delivery).filter_by(**keys).with_for_update()).first()
    if existing:
        return existing, False
    row = Delivery(channel=channel, event_id=event_id, **keys)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another router created it a moment ago
        return session.exec(select(Delivery).filter_by(**keys)).one(), False
    log(session, row, None, S.pending, event_id=event_id)
    return row, True


def ensure_many(session: Session, *, item_id: int, revision: int, event_id: str,
                plan: dict[str, tuple[str, Operation]]) -> dict[str, tuple[Delivery, bool]]:
    """`ensure` for every (target → (channel, operation)) of one item revision: one query for the rows
    that exist, the new ones inserted together; if another router inserted one meanwhile, row by row."""
    if not plan:
        return {}
    existing = {(d.target_code, d.operation): d for d in session.exec(
        select(Delivery).where(Delivery.item_id == item_id, Delivery.revision == revision,
                               Delivery.target_code.in_(list(plan))).with_for_update())}
    out: dict[str, tuple[Delivery, bool]] = {}
    new: dict[str, Delivery] = {}
    for code, (channel, operation) in plan.items():
        row = existing.get((code, operation.value))
        if row is not None:
            out[code] = (row, False)
        else:
            new[code] = Delivery(channel=channel, event_id=event_id, item_id=item_id, revision=revision,
                                 target_code=code, operation=operation.value)
    if new:
        try:
            with session.begin_nested():
                session.add_all(new.values())
                session.flush()
        except IntegrityError:  # raced with another router: settle each one on its own
            for code in new:
                channel, operation = plan[code]
                out[code] = ensure(session, item_id=item_id, revision=revision, channel=channel, target=code,
                                   operation=operation, event_id=event_id)
            return {code: out[code] for code in plan}
        for code, row in new.items():
            log(session, row, None, S.pending, event_id=event_id)
            out[code] = (row, True)
    return {code: out[code] for code in plan}


def move(session: Session, delivery: Delivery, to_state: S, **fields: Any) -> None:
    """Change state (checked against the state machine) and record it."""
    check_transition(delivery.state, to_state)
    detail = fields.pop("detail", {})
    previous = delivery.state
    delivery.state = to_state.value
    delivery.updated_at = now()
    for name, value in fields.items():
        setattr(delivery, name, value)
    session.add(delivery)  # written at the next flush, with the other rows of the transaction
    log(session, delivery, previous, to_state, **detail)


def claim(session: Session, delivery: Delivery, expected: str) -> bool:
    """Take the row for one call to the platform: `expected → in_flight` only if nobody moved it."""
    check_transition(expected, S.in_flight)
    result = session.execute(
        update(Delivery).where(Delivery.id == delivery.id, Delivery.state == expected)
        .values(state=S.in_flight.value, attempts=Delivery.attempts + 1, updated_at=now())
        .execution_options(synchronize_session="evaluate")  # the row in the session follows, no re-read
    )
    if result.rowcount != 1:
        return False
    log(session, delivery, expected, S.in_flight)
    return True


def claim_locked(session: Session, delivery: Delivery) -> None:
    """`claim` for a row this transaction has locked already (read FOR UPDATE on PostgreSQL, under
    BEGIN IMMEDIATE on SQLite): nobody can move it meanwhile, so no conditional update is needed."""
    move(session, delivery, S.in_flight, attempts=delivery.attempts + 1)


def succeed(session: Session, delivery: Delivery, receipt: Receipt, **detail: Any) -> None:
    move(session, delivery, S.succeeded, external_id=receipt.external_id, url=receipt.url,
         receipt=receipt.model_dump(mode="json"), succeeded_at=now(), last_error=None, error_class=None,
         next_attempt_at=None, detail={"external_id": receipt.external_id, "url": receipt.url, **detail})


def previous_receipt(session: Session, item_id: int, target: str, before_revision: int | None = None) -> Receipt | None:
    """What this target holds of the item now: the latest succeeded publish or correct."""
    query = select(Delivery).where(
        Delivery.item_id == item_id, Delivery.target_code == target, Delivery.state == S.succeeded,
        Delivery.operation.in_([Operation.publish.value, Operation.correct.value]),
    )
    if before_revision is not None:
        query = query.where(Delivery.revision < before_revision)
    row = session.exec(query.order_by(Delivery.succeeded_at.desc(), Delivery.id.desc())).first()
    return Receipt.model_validate(row.receipt) if row and row.receipt else None


def holders(session: Session, item_id: int, before_revision: int | None = None) -> dict[str, str]:
    """Targets that may hold some revision of the item (target → channel); with `before_revision`,
    only those holding an earlier revision (what a new revision must correct)."""
    query = select(Delivery).where(
        Delivery.item_id == item_id, Delivery.state.in_([s.value for s in HELD]),
        Delivery.operation.in_([Operation.publish.value, Operation.correct.value]),
    )
    if before_revision is not None:
        query = query.where(Delivery.revision < before_revision)
    return {r.target_code: r.channel for r in session.exec(query)}


def schedule(session: Session, delivery: Delivery, at: datetime) -> None:
    delivery.next_attempt_at = at
    session.add(delivery)
