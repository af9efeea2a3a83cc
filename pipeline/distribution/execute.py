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

A channel agent hands over a batch (`deliver_many`): the ledger work of the whole batch happens in
at most three transactions (load and claim · record what the questions found and claim · record
the results), and the platform calls of the batch run side by side between them. Each message has
a savepoint of its own, so one bad row cannot stop the others. The claim is still committed before
its platform call, so a worker killed mid-call leaves `in_flight` rows that are verified first.
"""

import contextvars
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import tuple_
from sqlmodel import Session, select

from connectors.base import Connector
from pipeline.clock import now
from pipeline.config import Settings
from pipeline.distribution import ledger
from pipeline.distribution.ledger_rules import backoff_seconds, state_after_error
from pipeline.store.db import session_scope
from pipeline.store.models import ChannelTarget, Delivery, Item, ItemRevision, OutboxEntry
from schemas.delivery import DeliveryState as S
from schemas.delivery import ErrorClass, Operation, Receipt, Target
from schemas.events import DeliverMessage
from schemas.item import ItemSnapshot

TargetBuilder = Callable[[ChannelTarget, ItemSnapshot], Target]
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


def _stop(session: Session, d: Delivery, state: S, reason: str) -> Outcome:
    ledger.move(session, d, state, last_error=reason, error_class=ErrorClass.permanent.value,
                detail={"reason": reason})
    return Outcome(d.id, state, dead_letter=reason)


@dataclass
class _Rows:
    """The rows a batch needs, read in a few queries instead of several per delivery. Deliveries
    are read into the session (locked FOR UPDATE on PostgreSQL, in id order), so `session.get` finds
    them without another query."""

    deliveries: dict[int, Delivery]  # held here: the session's identity map keeps only weak references
    item_status: dict[int, str]
    targets: dict[str, ChannelTarget]
    raw_snapshots: dict[tuple[int, int], dict]
    snapshots: dict[tuple[int, int], ItemSnapshot]

    @classmethod
    def read(cls, session: Session, delivery_ids: list[int]) -> "_Rows":
        deliveries = {d.id: d for d in session.exec(select(Delivery).where(Delivery.id.in_(delivery_ids))
                                                    .order_by(Delivery.id).with_for_update())}
        rows = list(deliveries.values())
        item_ids = {d.item_id for d in rows}
        codes = {d.target_code for d in rows}
        if not rows:
            return cls(deliveries, {}, {}, {}, {})
        status = dict(session.exec(select(Item.id, Item.status).where(Item.id.in_(item_ids))).all())
        targets = {t.code: t for t in session.exec(select(ChannelTarget).where(ChannelTarget.code.in_(codes)))}
        pairs = {(d.item_id, d.revision) for d in rows}
        snapshots = {(i, n): snap for i, n, snap in session.exec(
            select(ItemRevision.item_id, ItemRevision.number, ItemRevision.snapshot)
            .where(tuple_(ItemRevision.item_id, ItemRevision.number).in_(pairs))).all()}
        return cls(deliveries, status, targets, snapshots, {})

    def snapshot(self, item_id: int, number: int) -> ItemSnapshot:
        key = (item_id, number)
        if key not in self.snapshots:
            self.snapshots[key] = ItemSnapshot.model_validate(self.raw_snapshots[key])
        return self.snapshots[key]


def _load(session: Session, msg: DeliverMessage, build_target: TargetBuilder, rows: _Rows) -> _Work | Outcome:
    d = rows.deliveries.get(msg.delivery_id)
    if d is None:
        return Outcome(msg.delivery_id, "missing", dead_letter=f"no ledger row {msg.delivery_id}")
    if (d.item_id, d.target_code, d.operation) != (msg.item_id, msg.target, msg.operation.value):
        return Outcome(d.id, d.state, dead_letter="the message does not match its ledger row")
    if d.state in FINISHED:
        return Outcome(d.id, d.state, skipped=f"already {d.state}")
    if d.state == S.in_flight:
        ledger.move(session, d, S.unknown, detail={"reason": "found in flight: the last worker stopped mid-call"})
    if d.operation != Operation.takedown and rows.item_status[d.item_id] == "withdrawn":
        if d.state == S.pending:
            return _stop(session, d, S.failed, "the item was withdrawn before delivery")
        if d.state == S.retrying:
            return _stop(session, d, S.dead, "the item was withdrawn before delivery")
        return Outcome(d.id, d.state, skipped="withdrawn; its takedown verifies this target")
    row = rows.targets.get(d.target_code)
    if row is None:
        return _stop(session, d, S.failed if d.state == S.pending else S.dead,
                     f"target {d.target_code} is not registered")
    snapshot = rows.snapshot(d.item_id, d.revision)
    previous = None  # what the target holds now: only a correction or a takedown needs it
    if d.operation != Operation.publish:
        before = d.revision if d.operation == Operation.correct else None
        previous = ledger.previous_receipt(session, d.item_id, d.target_code, before)
    return _Work(
        delivery_id=d.id, operation=Operation(d.operation), state=d.state, item=snapshot,
        target=build_target(row, snapshot), previous=previous,
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


def _record_receipt(session: Session, delivery_id: int, receipt: Receipt, settings: Settings, phase: str,
                    due: dict[str, datetime] | None = None) -> Outcome:
    d = session.get(Delivery, delivery_id)
    if receipt.state == S.succeeded:
        ledger.succeed(session, d, receipt, phase=phase)
        announced = due.get(d.event_id) if due is not None else _announced_at(session, d)
        return Outcome(d.id, S.succeeded, announced_at=announced or d.created_at)
    at = now() + timedelta(seconds=settings.remote_poll_seconds)
    ledger.move(session, d, S.remote_pending, receipt=receipt.model_dump(mode="json"),
                external_id=receipt.external_id, next_attempt_at=at,
                detail={"external_id": receipt.external_id, "phase": phase})
    return Outcome(d.id, S.remote_pending, retry_at=at)


def _record_error(session: Session, delivery_id: int, error: Exception, error_class: ErrorClass,
                  settings: Settings, phase: str) -> Outcome:
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


def _due_times(session: Session, delivery_ids: list[int]) -> tuple[list[Delivery], dict[str, datetime]]:
    """The deliveries (keep them: the session holds them weakly), and when each one's event was
    due (its outbox row)."""
    rows = list(session.exec(select(Delivery).where(Delivery.id.in_(delivery_ids))))
    events = {d.event_id for d in rows}
    return rows, dict(session.exec(select(OutboxEntry.event_id, OutboxEntry.available_at)
                                   .where(OutboxEntry.event_id.in_(events))).all())


def _announced_at(session: Session, d: Delivery) -> datetime:
    """When the event behind this delivery was due: its outbox row (sign-off, schedule or replay)."""
    due = session.exec(select(OutboxEntry.available_at).where(OutboxEntry.event_id == d.event_id)).first()
    return due or d.created_at


Call = Callable[[], object]


def _serially(calls: list[Call]) -> list[object]:
    return [_attempt(call) for call in calls]


def _attempt(call: Call) -> object:
    """The call's result, or the exception it raised (returned, not raised)."""
    try:
        return call()
    except Exception as exc:
        return exc


def deliver(msg: DeliverMessage, connector: Connector, build_target: TargetBuilder, settings: Settings) -> Outcome:
    """One delivery (a batch of one)."""
    result = deliver_many([msg], connector, build_target, settings)[0]
    if isinstance(result, Exception):
        raise result
    return result


def deliver_many(messages: list[DeliverMessage], connector: Connector, build_target: TargetBuilder,
                 settings: Settings, *, pool: Executor | None = None,
                 context: Callable[[DeliverMessage], AbstractContextManager] | None = None) -> list[Outcome | Exception]:
    """The deliveries of one batch, in the order given: an `Outcome` each, or the unexpected error
    (e.g. the database is away) that stopped that one delivery — the caller tries it again later.
    No two messages may name the same delivery (the agent puts one message per item in a batch).
    `pool` runs the platform calls side by side; `context` wraps each one (e.g. its log fields)."""
    context = context or (lambda _msg: nullcontext())
    results: list[Outcome | Exception | None] = [None] * len(messages)
    works: dict[int, _Work] = {}

    def side_by_side(calls: dict[int, Callable[[_Work], object]]) -> dict[int, object]:
        def bound(i: int, fn: Callable[[_Work], object]) -> Call:
            def run() -> object:
                with context(messages[i]):
                    return fn(works[i])
            return run

        order = list(calls)
        jobs = [bound(i, calls[i]) for i in order]
        if pool is None or len(jobs) < 2:
            answers = _serially(jobs)
        else:
            futures = [pool.submit(contextvars.copy_context().run, _attempt, job) for job in jobs]
            answers = [f.result() for f in futures]
        return dict(zip(order, answers, strict=True))

    # 1. load every row; claim at once those with nothing to ask the platform first
    rows: list[_Rows] = []
    one_by_one: list[bool] = []  # set when the batch is redone a savepoint at a time (see below)

    def redo() -> None:
        rows.clear()
        one_by_one.append(True)

    def load(session: Session, i: int) -> None:
        if not rows:
            rows.append(_Rows.read(session, [m.delivery_id for m in messages]))
        work = _load(session, messages[i], build_target, rows[0])
        if isinstance(work, Outcome):
            results[i] = work
        elif work.state in ASK_FIRST:
            works[i] = work
        elif not one_by_one:  # the row is locked by this transaction (see _Rows.read): claim it
            ledger.claim_locked(session, rows[0].deliveries[work.delivery_id])
            work.state = S.in_flight.value
            works[i] = work
        # a savepoint rolled back may have let the row lock go (PostgreSQL): claim only if unmoved
        elif ledger.claim(session, rows[0].deliveries[work.delivery_id], work.state):
            work.state = S.in_flight.value
            works[i] = work
        else:
            results[i] = Outcome(work.delivery_id, "?", skipped="claimed by another worker")

    _each_in_one_transaction(range(len(messages)), load, results, drop=works, reset=redo)

    # 2. ask the platform about earlier attempts (unknown, remote_pending) before anything is posted
    asking = {i: (lambda w: _verify(connector, w)) for i, w in works.items() if w.state in ASK_FIRST}
    if asking:
        found = side_by_side(asking)

        def settle(session: Session, i: int) -> None:
            answer, work = found[i], works[i]
            if isinstance(answer, Exception):
                results[i] = _record_error(session, work.delivery_id, answer, ErrorClass.unknown, settings, "verify")
            elif answer is not None:
                results[i] = _record_receipt(session, work.delivery_id, answer, settings, "verify")
            elif ledger.claim(session, session.get(Delivery, work.delivery_id), work.state):
                work.state = S.in_flight.value
                return
            else:
                results[i] = Outcome(work.delivery_id, "?", skipped="claimed by another worker")
            del works[i]

        _each_in_one_transaction(list(asking), settle, results, drop=works)

    # 3. the platform calls, side by side, outside any transaction
    if works:
        answers = side_by_side({i: (lambda w: _call(connector, w)) for i in works})
        due: list[tuple[list[Delivery], dict[str, datetime]]] = []

        def record(session: Session, i: int) -> None:
            if not due:  # the batch's rows and when their events were due, in two queries
                due.append(_due_times(session, [works[j].delivery_id for j in works]))
            answer, work = answers[i], works[i]
            if isinstance(answer, Exception):
                results[i] = _record_error(session, work.delivery_id, answer, _classify(connector, answer), settings,
                                           "call")
            else:
                results[i] = _record_receipt(session, work.delivery_id, answer, settings, "call", due[0][1])

        _each_in_one_transaction(list(works), record, results, reset=due.clear)
    return results


def _each_in_one_transaction(indexes, step: Callable[[Session, int], None], results: list,
                             drop: dict | None = None, reset: Callable[[], None] | None = None) -> None:
    """`step` for each index in one ledger transaction. With `reset`, first all together (the
    usual case: one flush, no savepoints); if any step fails, that transaction is rolled back,
    `reset` forgets what it read, and the steps run again each in a savepoint of its own: an error
    in one becomes that one's result (and the others still commit). If the commit itself fails,
    every index without a result yet gets the error."""
    pending = [i for i in indexes if results[i] is None]
    if reset is not None and pending:
        saved_results, saved_drop = list(results), dict(drop) if drop is not None else None
        try:
            with session_scope() as session:
                for i in pending:
                    step(session, i)
            return
        except Exception:  # noqa: BLE001 - rolled back; one at a time below finds which one
            results[:] = saved_results
            if drop is not None:
                drop.clear()
                drop.update(saved_drop)
            reset()
    try:
        with session_scope() as session:
            for i in pending:
                try:
                    with session.begin_nested():
                        step(session, i)
                except Exception as exc:  # noqa: BLE001 - this one delivery is tried again later
                    results[i] = exc
                    if drop is not None:
                        drop.pop(i, None)
    except Exception as exc:  # the commit failed: nothing of this step was recorded
        for i in pending:
            results[i] = exc
            if drop is not None:
                drop.pop(i, None)
