"""Ledger rows → API models."""

from pipeline.clock import aware
from pipeline.store.models import Delivery, DeliveryLog
from schemas.api import DeliveryLogPublic, DeliveryPublic


def delivery_public(d: Delivery) -> DeliveryPublic:
    return DeliveryPublic(
        id=d.id, item=d.item_id, revision=d.revision, channel=d.channel, target=d.target_code,
        operation=d.operation, state=d.state, attempts=d.attempts, external_id=d.external_id, url=d.url,
        error_class=d.error_class, last_error=d.last_error, next_attempt_at=aware(d.next_attempt_at),
        created_at=aware(d.created_at), updated_at=aware(d.updated_at), succeeded_at=aware(d.succeeded_at),
    )


def log_public(entry: DeliveryLog) -> DeliveryLogPublic:
    return DeliveryLogPublic(at=aware(entry.at), from_state=entry.from_state, to_state=entry.to_state,
                             attempt=entry.attempt, detail=entry.detail)
