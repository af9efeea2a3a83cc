"""Deliveries whose message was lost in a crash are found in the ledger and sent again.

A retry waits in memory after its message was consumed; a worker killed meanwhile would drop it,
and a router killed between its commit and its sends leaves rows nobody was told about. The ledger
knows better than any offset: rows overdue by `grace` are re-emitted (and pushed back, so the
next sweep does not send them twice)."""

from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import select

from pipeline.clock import now
from pipeline.store.db import session_scope
from pipeline.store.models import Delivery
from schemas.delivery import DeliveryState as S
from schemas.events import DeliverMessage

WAITING = [S.retrying.value, S.unknown.value, S.remote_pending.value]


def overdue(grace_seconds: float, stuck_seconds: float, limit: int = 500) -> list[DeliverMessage]:
    cutoff = now() - timedelta(seconds=grace_seconds)
    stuck = now() - timedelta(seconds=stuck_seconds)
    with session_scope() as session:
        rows = list(session.exec(
            select(Delivery).where(or_(
                Delivery.state.in_(WAITING) & (Delivery.next_attempt_at < cutoff),
                (Delivery.state == S.pending.value) & (Delivery.updated_at < cutoff),
                (Delivery.state == S.in_flight.value) & (Delivery.updated_at < stuck),
            )).order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True)
        ))
        for row in rows:
            row.next_attempt_at = now() + timedelta(seconds=grace_seconds)
            row.updated_at = now()
            session.add(row)
        return [DeliverMessage(delivery_id=r.id, item_id=r.item_id, revision=r.revision, channel=r.channel,
                               target=r.target_code, operation=r.operation, attempt=r.attempts, event_id=r.event_id)
                for r in rows]
