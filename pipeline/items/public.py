"""Stored rows → the API's `ItemPublic` (the API never returns a table row directly)."""

from sqlmodel import Session, select

from pipeline.clock import aware
from pipeline.config import Settings
from pipeline.items.service import get_revision, interpretations_of
from pipeline.review.rules import level_name
from pipeline.store.models import Item, Review, Unit, User
from schemas.api import ItemPublic, ItemSummary, ReviewPublic


def _user_name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.name if user else None


def review_public(session: Session, review: Review, total: int) -> ReviewPublic:
    return ReviewPublic(id=review.id, revision=review.revision, level=review.level,
                        level_name=level_name(review.level, total), reviewer=_user_name(session, review.reviewer_id),
                        decision=review.decision, comment=review.comment, at=aware(review.created_at))


def item_public(session: Session, item: Item, settings: Settings) -> ItemPublic:
    rev = get_revision(session, item)
    total = settings.review_levels
    reviews = session.exec(select(Review).where(Review.item_id == item.id).order_by(Review.id)).all()
    in_review = item.status == "in_review"
    return ItemPublic(
        id=item.id, status=item.status,
        review_level=item.review_level if in_review else None,
        review_level_name=level_name(item.review_level, total) if in_review else None,
        revision=rev.number, approved_revision=item.approved_revision, published_revision=item.published_revision,
        kind=item.kind, unit=session.get(Unit, item.unit_id).code, index_no=item.index_no,
        title=rev.title, subtitle=rev.subtitle, summary=rev.summary, body=rev.body_html, language=rev.language,
        issuer=rev.issuer, doc_no=rev.doc_no, written_date=rev.written_date,
        published_at=aware(item.published_at), publish_at=aware(item.publish_at),
        keywords=rev.keywords, topic_category=rev.topic_category, columns=rev.columns, targets=rev.targets,
        cover=rev.cover, canonical_url=item.canonical_url, interprets=item.interprets_id,
        interpretations=[i.id for i in interpretations_of(session, item)],
        republished_from=item.republished_from_id, correction_note=rev.correction_note,
        rejection_reason=item.rejection_reason, author=_user_name(session, rev.author_id) or "",
        created_at=aware(item.created_at), updated_at=aware(item.updated_at),
        reviews=[review_public(session, r, total) for r in reviews],
    )


def item_summary(session: Session, item: Item) -> ItemSummary:
    rev = get_revision(session, item)
    return ItemSummary(id=item.id, status=item.status,
                       review_level=item.review_level if item.status == "in_review" else None,
                       kind=item.kind, unit=session.get(Unit, item.unit_id).code, index_no=item.index_no,
                       title=rev.title, revision=rev.number, updated_at=aware(item.updated_at))
