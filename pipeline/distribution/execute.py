"""One delivery, start to finish, for a channel agent (synchronous: agents run it in a thread).

    load the ledger row ─► already finished? stop
          │ found in_flight (a worker died mid-call), unknown or remote_pending:
          │ ask the platform first (verify) ─► done? record it, never post again
          ▼
    claim: state → in_flight, attempts + 1, committed BEFORE the call
          ▼
    connector.publish / correct / take_down
          ▼
    succeeded (platform id + URL) · remote_pending (ask again later) · retrying (backoff)
    · unknown (verify before any retry) · failed / dead (dead letter)
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from connectors.base import Connector
from pipeline.clock import now
from pipeline.config import Settings
from pipeline.distribution import ledger
from pipeline.distribution.ledger_rules import backoff_seconds, state_after_error
from pipeline.store.db import get_engine, session_scope
from pipeline.store.models import ChannelTarget, Delivery, Item, ItemRevision, OutboxEntry
from schemas.delivery import DeliveryState as S
from schemas.delivery import ErrorClass, Operation, Receipt, Target
from schemas.events import DeliverMessage
from schemas.item import ItemSnapshot

TargetBuilder = Callable[[ChannelTarget, ItemSnapshot], Target]
_SQLITE_WRITER = threading.Lock()  # one ledger transaction at a time per process on SQLite
FINISHED = {S.succeeded.value, S.failed.value, S.dead.value}
ASK_FIRST = {S.unknown.value, S.remote_pending.value}


@dataclass
class Outcome:
    delivery_id: int
    state: str
    retry_at: datetime | None = None  # send the message to ck.retry.<channel> for this moment
    dead_letter: str | None = None  # send to ck.dead-letter with this reason
    skipped: str | None = None
    announced_at: datetime | None = None  # succeeded: when its event was due (for the latency metric)
    error_class: str | None = None  # a platform call failed: how (for the error metric)
    error_code: str | None = None  # … and the platform's own code


@dataclass
class _Work:
    delivery_id: int
    operation: Operation
    state: str
    item: ItemSnapshot
    target: Target
    previous: Receipt | None  # what the target holds now (for correct / takedown)
    own: Receipt | None  # this delivery's own receipt, e.g. a platform job still running


@contextmanager
def _transaction() -> Iterator[Session]:
    """A ledger transaction. SQLite has one writer: the deliveries running side by side in one
    worker queue here, in order, instead of polling its busy handler (a convoy that starves the
    router). Platform calls stay outside, so they still overlap. PostgreSQL is not gated."""
    if get_engine().dialect.name != "sqlite":
        with session_scope() as session:
            yield session
        return
    with _SQLITE_WRITER, session_scope() as session:
        yield session


def _stop(session: Session, d: Delivery, state: S, reason: str) -> Outcome:
    ledger.move(session, d, state, last_error=reason, error_class=ErrorClass.permanent.value,
                detail={"reason": reason})
    return Outcome(d.id, state, dead_letter=reason)


def _load(session: Session, msg: DeliverMessage, build_target: TargetBuilder) -> _Work | Outcome:
    d = session.exec(select(Delivery).where(Delivery.id == msg.delivery_id).with_for_update()).first()
    if d is None:
        return Outcome(msg.delivery_id, "missing", dead_letter=f"no ledger row {msg.delivery_id}")
    if (d.item_id, d.target_code, d.operation) != (msg.item_id, msg.target, msg.operation.value):
        return Outcome(d.id, d.state, dead_letter="the message does not match its ledger row")
    if d.state in FINISHED:
        return Outcome(d.id, d.state, skipped=f"already {d.state}")
    if d.state == S.in_flight:
        ledger.move(session, d, S.unknown, detail={"reason": "found in flight: the last worker stopped mid-call"})
    item = session.get(Item, d.item_id)
    if d.operation != Operation.takedown and item.status == "withdrawn":
        if d.state == S.pending:
            return _stop(session, d, S.failed, "the item was withdrawn before delivery")
        if d.state == S.retrying:
            return _stop(session, d, S.dead, "the item was withdrawn before delivery")
        return Outcome(d.id, d.state, skipped="withdrawn; its takedown verifies this target")
    row = session.exec(select(ChannelTarget).where(ChannelTarget.code == d.target_code)).first()
    if row is None:
        return _stop(session, d, S.failed if d.state == S.pending else S.dead,
                     f"target {d.target_code} is not registered")
    revision = session.exec(select(ItemRevision).where(ItemRevision.item_id == d.item_id,
                                                       ItemRevision.number == d.revision)).one()
    snapshot = ItemSnapshot.model_validate(revision.snapshot)
    before = d.revision if d.operation == Operation.correct else None
    return _Work(
        delivery_id=d.id, operation=Operation(d.operation), state=d.state, item=snapshot,
        target=build_target(row, snapshot),
        previous=ledger.previous_receipt(session, d.item_id, d.target_code, before),
        own=Receipt.model_validate(d.receipt) if d.receipt else None,
    )


def _verify(connector: Connector, work: _Work) -> Receipt | None:
    """Did an earlier attempt take effect? A receipt when it did (or is still running), else None."""
    if work.operation == Operation.takedown:
        still_there = connector.verify(work.item, work.target, work.previous)
        return Receipt(detail={"verified": "gone"}) if still_there is None else None
    return connector.verify(work.item, work.target, work.own)


def _call(connector: Connector, work: _Work) -> Receipt:
    if work.operation == Operation.publish:
        return connector.publish(work.item, work.target)
    if work.operation == Operation.correct:
        if work.previous is None:  # the target holds nothing to change: publish the revision
            return connector.publish(work.item, work.target)
        return connector.correct(work.item, work.target, work.previous)
    held = work.previous or connector.verify(work.item, work.target, None)
    if held is None:
        return Receipt(detail={"note": "nothing to take down"})
    return connector.take_down(work.item, work.target, held)


def _classify(connector: Connector, error: Exception) -> ErrorClass:
    try:
        return ErrorClass(connector.classify(error))
    except Exception:  # a classifier must never lose the delivery
        return ErrorClass.unknown


def _record_receipt(delivery_id: int, receipt: Receipt, settings: Settings, phase: str) -> Outcome:
    with _transaction() as session:
        d = session.get(Delivery, delivery_id)
        if receipt.state == S.succeeded:
            ledger.succeed(session, d, receipt, phase=phase)
            return Outcome(d.id, S.succeeded, announced_at=_announced_at(session, d))
        at = now() + timedelta(seconds=settings.remote_poll_seconds)
        ledger.move(session, d, S.remote_pending, receipt=receipt.model_dump(mode="json"),
                    external_id=receipt.external_id, next_attempt_at=at,
                    detail={"external_id": receipt.external_id, "phase": phase})
        return Outcome(d.id, S.remote_pending, retry_at=at)


def _record_error(delivery_id: int, error: Exception, error_class: ErrorClass, settings: Settings,
                  phase: str) -> Outcome:
    with _transaction() as session:
        d = session.get(Delivery, delivery_id)
        if phase == "verify":
            d.attempts += 1  # asking counts too, so a platform that never answers ends in dead letter
            error_class = ErrorClass.unknown  # we still do not know: never fail for good on a question
        state = state_after_error(error_class, d.attempts, settings.max_attempts)
        message = f"{type(error).__name__}: {error}"[:2000]
        detail = {"error": message, "class": error_class.value, "code": getattr(error, "code", None), "phase": phase}
        if state in (S.failed, S.dead):
            ledger.move(session, d, state, last_error=message, error_class=error_class.value, next_attempt_at=None,
                        detail=detail)
            return Outcome(d.id, state, dead_letter=message, error_class=error_class.value,
                           error_code=_code(error))
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and settings.retry_after_cap_seconds is not None:
            retry_after = min(retry_after, settings.retry_after_cap_seconds)
        delay = backoff_seconds(d.attempts, base=settings.retry_base_seconds, cap=settings.retry_cap_seconds,
                                retry_after=retry_after)
        at = now() + timedelta(seconds=delay)
        fields = dict(last_error=message, error_class=error_class.value, next_attempt_at=at)
        if d.state != state:
            ledger.move(session, d, state, **fields, detail=detail | {"retry_in": round(delay, 3)})
        else:
            for name, value in fields.items():
                setattr(d, name, value)
            ledger.log(session, d, d.state, state, **detail, retry_in=round(delay, 3))
        return Outcome(d.id, state, retry_at=at, error_class=error_class.value, error_code=_code(error))


def _code(error: Exception) -> str | None:
    code = getattr(error, "code", None)
    return None if code is None else str(code)


def _announced_at(session: Session, d: Delivery) -> datetime:
    """When the event behind this delivery was due: its outbox row (sign-off, schedule or replay)."""
    due = session.exec(select(OutboxEntry.available_at).where(OutboxEntry.event_id == d.event_id)).first()
    return due or d.created_at


def deliver(msg: DeliverMessage, connector: Connector, build_target: TargetBuilder, settings: Settings) -> Outcome:
    with _transaction() as session:
        work = _load(session, msg, build_target)
        # Nothing to ask the platform first: claim in the same transaction (one commit fewer per delivery).
        if isinstance(work, _Work) and work.state not in ASK_FIRST:
            if not ledger.claim(session, session.get(Delivery, work.delivery_id), work.state):
                return Outcome(work.delivery_id, "?", skipped="claimed by another worker")
            work.state = S.in_flight.value
    if isinstance(work, Outcome):
        return work
    if work.state in ASK_FIRST:
        try:
            found = _verify(connector, work)
        except Exception as exc:
            return _record_error(work.delivery_id, exc, ErrorClass.unknown, settings, "verify")
        if found is not None:
            return _record_receipt(work.delivery_id, found, settings, "verify")
        with _transaction() as session:
            if not ledger.claim(session, session.get(Delivery, work.delivery_id), work.state):
                return Outcome(work.delivery_id, "?", skipped="claimed by another worker")
    try:
        receipt = _call(connector, work)
    except Exception as exc:
        return _record_error(work.delivery_id, exc, _classify(connector, exc), settings, "call")
    return _record_receipt(work.delivery_id, receipt, settings, "call")
