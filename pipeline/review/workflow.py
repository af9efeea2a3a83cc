"""Submit and review: the thin stateful shell around `rules` and the content gates.

Gates run on submit and again at sign-off. Sign-off freezes the revision's snapshot, fixes the
canonical URL and writes the publish (or correct) event to the outbox in the same transaction,
so an approved item can never miss its distribution."""

from sqlmodel import Session, select

from pipeline.audit import record
from pipeline.clock import aware, now
from pipeline.config import Settings
from pipeline.distribution.outbox import announce_approval
from pipeline.errors import Conflict, Forbidden, GateRefused
from pipeline.gates import GateConfig, check_item
from pipeline.items.canonical import canonical_url_for
from pipeline.items.service import get_item, get_revision, writers_of
from pipeline.items.snapshot import build_snapshot
from pipeline.org.roles import WRITERS
from pipeline.review.rules import Decision, ReviewContext, after_decision, check_review, level_name
from pipeline.store.models import Item, ItemRevision, Review, User
from schemas.api import ReviewCreate

def run_gates(revision: ItemRevision, settings: Settings) -> None:
    findings = check_item(revision.title, revision.summary, revision.body_html, GateConfig.from_settings(settings))
    if findings:
        listed = "; ".join(f"{f.rule} {f.text!r} in {f.field}" for f in findings[:5])
        raise GateRefused(f"content gates found {len(findings)} problem(s): {listed}", findings)


def submit(session: Session, actor: User, item_id: int, settings: Settings) -> Item:
    item = get_item(session, item_id, for_update=True)
    if actor.role not in WRITERS:
        raise Forbidden(f"a {actor.role} may not submit items")
    if item.status != "draft":
        raise Conflict(f"the item is {item.status}; only a draft can be submitted")
    revision = get_revision(session, item)
    run_gates(revision, settings)
    item.status, item.review_level = "in_review", 1
    item.rejection_reason = None
    item.updated_at = now()
    record(session, actor, "item.submit", item_id=item.id, revision=revision.number)
    session.flush()
    return item


def review(session: Session, actor: User, item_id: int, data: ReviewCreate, settings: Settings) -> Item:
    item = get_item(session, item_id, for_update=True)
    total = settings.review_levels
    decision = Decision(data.decision)
    acted = {
        r.reviewer_id: r.level
        for r in session.exec(
            select(Review).where(Review.item_id == item.id, Review.revision == item.current_revision)
        )
    }
    check_review(
        ReviewContext(status=item.status, level=item.review_level, total_levels=total, actor_id=actor.id,
                      actor_role=actor.role, writers=writers_of(session, item), acted_on_revision=acted),
        decision, data.comment,
    )
    revision = get_revision(session, item)
    level = item.review_level
    signing_off = decision == Decision.approve and level == total
    if signing_off:
        run_gates(revision, settings)
    session.add(Review(item_id=item.id, revision=revision.number, level=level, reviewer_id=actor.id,
                       decision=decision.value, comment=data.comment))
    item.status, item.review_level = after_decision(level, total, decision)
    item.updated_at = now()
    if decision == Decision.reject:
        item.rejection_reason = data.comment
    record(session, actor, f"review.{decision.value}", item_id=item.id, revision=revision.number,
           level=level, level_name=level_name(level, total), comment=data.comment)
    if signing_off:
        _sign_off(session, item, revision, actor, settings)
    session.flush()
    return item


def _sign_off(session: Session, item: Item, revision: ItemRevision, actor: User, settings: Settings) -> None:
    signed_at = now()
    if item.published_at is None:
        item.published_at = max(signed_at, aware(item.publish_at) or signed_at)
    if item.canonical_url is None:
        item.canonical_url = canonical_url_for(session, item, revision, item.published_at, settings)
    item.approved_revision = revision.number
    revision.snapshot = build_snapshot(session, item, revision).model_dump(mode="json")
    record(session, actor, "item.approve", item_id=item.id, revision=revision.number,
           canonical_url=item.canonical_url)
    announce_approval(session, item, revision, settings)
