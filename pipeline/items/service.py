"""Creating, revising, reading and listing items. Every change is a new revision and an audit entry."""

from datetime import date

from sqlmodel import Session, func, select

from pipeline.audit import record
from pipeline.clock import NEWSROOM_TZ, now
from pipeline.config import Settings
from pipeline.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from pipeline.items.index_numbers import next_index_no
from pipeline.items.sanitize import clean_body, media_references, plain_text
from pipeline.org.roles import WRITERS, Role
from pipeline.org.units import get_unit, is_same_or_ancestor
from pipeline.store.models import Item, ItemRevision, Media, Unit, User
from schemas.api import ItemCreate, ItemUpdate
from schemas.item import ItemKind

REVISABLE = {"draft", "in_review", "approved", "published"}


def get_item(session: Session, item_id: int, *, for_update: bool = False) -> Item:
    query = select(Item).where(Item.id == item_id)
    if for_update:
        query = query.with_for_update()
    item = session.exec(query).first()
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    return item


def get_revision(session: Session, item: Item, number: int | None = None) -> ItemRevision:
    number = number or item.current_revision
    return session.exec(
        select(ItemRevision).where(ItemRevision.item_id == item.id, ItemRevision.number == number)
    ).one()


def writers_of(session: Session, item: Item) -> frozenset[int]:
    authors = session.exec(select(ItemRevision.author_id).where(ItemRevision.item_id == item.id)).all()
    return frozenset({item.created_by, *authors})


def _check_writer(session: Session, actor: User, unit: Unit) -> None:
    if actor.role not in WRITERS:
        raise Forbidden(f"a {actor.role} may not write items")
    if actor.role != Role.admin and not is_same_or_ancestor(session, actor.unit_id, unit):
        raise Forbidden(f"you belong to another unit and may not write items of {unit.code}")


def _clean_fields(session: Session, title: str, body: str, kind: ItemKind, fields: dict, settings: Settings,
                  item_id: int | None, unit: Unit) -> tuple[str, str]:
    if len(body.encode("utf-8")) > settings.max_body_bytes:
        raise TooLarge(f"body is larger than {settings.max_body_bytes} bytes")
    clean_title = plain_text(title)
    if not clean_title:
        raise Invalid("title is empty once markup is removed")
    cleaned = clean_body(body)
    if not plain_text(cleaned) and "<img" not in cleaned:
        raise Invalid("body is empty once unsafe markup is removed")
    shas = set(media_references(cleaned))
    if fields.get("cover"):
        shas.add(fields["cover"])
    if shas:
        known = set(session.exec(select(Media.sha256).where(Media.sha256.in_(shas))).all())
        missing = sorted(shas - known)
        if missing:
            raise Invalid(f"unknown media {', '.join(missing)}: upload images before referencing them")
    interprets = fields.get("interprets")
    if interprets is not None:
        if kind != ItemKind.interpretation:
            raise Invalid("only an item of kind 'interpretation' can interpret a policy")
        policy = session.get(Item, interprets)
        if policy is None or policy.id == item_id:
            raise Invalid(f"interprets: item {interprets} does not exist")
        if policy.kind != ItemKind.policy:
            raise Invalid(f"interprets: item {interprets} is a {policy.kind}, not a policy")
    source_id = fields.get("republished_from")
    if source_id is not None:
        source = session.get(Item, source_id)
        if source is None or source.id == item_id:
            raise Invalid(f"republished_from: item {source_id} does not exist")
        if source.unit_id == unit.id:
            raise Invalid("republished_from: an item is re-published (转载) from another unit")
        if source.published_revision is None and source.approved_revision is None:
            raise Invalid(f"republished_from: item {source_id} has not been approved yet")
    return clean_title, cleaned


def _revision_values(fields: dict, unit: Unit) -> dict:
    return {
        "subtitle": plain_text(fields["subtitle"]) if fields.get("subtitle") else None,
        "summary": plain_text(fields.get("summary") or ""),
        "language": fields.get("language") or "zh-CN",
        "issuer": plain_text(fields.get("issuer") or "") or unit.name,
        "doc_no": fields.get("doc_no"),
        "written_date": fields.get("written_date") or now().astimezone(NEWSROOM_TZ).date(),
        "keywords": [plain_text(k) for k in fields.get("keywords") or []],
        "topic_category": fields.get("topic_category"),
        "columns": list(fields.get("columns") or []),
        "targets": fields.get("targets"),
        "cover": fields.get("cover"),
        "correction_note": fields.get("correction_note"),
    }


def create_item(session: Session, actor: User, data: ItemCreate, settings: Settings) -> Item:
    unit = get_unit(session, data.unit) if data.unit else session.get(Unit, actor.unit_id)
    _check_writer(session, actor, unit)
    fields = data.model_dump(exclude={"title", "body", "kind", "unit"})
    title, body = _clean_fields(session, data.title, data.body, data.kind, fields, settings, None, unit)
    year = (data.written_date or now().astimezone(NEWSROOM_TZ).date()).year
    item = Item(unit_id=unit.id, kind=data.kind.value, index_no=next_index_no(session, unit, year),
                interprets_id=data.interprets, republished_from_id=data.republished_from,
                publish_at=data.publish_at, created_by=actor.id)
    session.add(item)
    session.flush()
    session.add(ItemRevision(item_id=item.id, number=1, title=title, body_html=body, author_id=actor.id,
                             **_revision_values(fields, unit)))
    record(session, actor, "item.create", item_id=item.id, revision=1, title=title, kind=item.kind)
    session.flush()
    return item


def revise_item(session: Session, actor: User, item_id: int, data: ItemUpdate, settings: Settings) -> Item:
    item = get_item(session, item_id, for_update=True)
    unit = session.get(Unit, item.unit_id)
    _check_writer(session, actor, unit)
    if item.status not in REVISABLE:
        raise Conflict(f"the item is {item.status} and can no longer be revised")
    previous = get_revision(session, item)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid("the revision changes nothing")
    merged = previous.model_dump() | {
        "title": previous.title, "body": previous.body_html,
        "interprets": item.interprets_id, "republished_from": item.republished_from_id,
        "publish_at": item.publish_at, "kind": ItemKind(item.kind),
    }
    merged["correction_note"] = None  # a note belongs to the revision that carries it
    merged |= changes
    kind = ItemKind(merged["kind"])
    title, body = _clean_fields(session, merged["title"], merged["body"], kind, merged, settings, item.id, unit)
    number = item.current_revision + 1
    session.add(ItemRevision(item_id=item.id, number=number, title=title, body_html=body, author_id=actor.id,
                             **_revision_values(merged, unit)))
    restarted = item.status == "in_review"
    item.kind = kind.value
    item.interprets_id = merged["interprets"]
    item.republished_from_id = merged["republished_from"]
    item.publish_at = merged["publish_at"]
    item.current_revision = number
    item.status = "draft"
    item.review_level = 0
    item.rejection_reason = None
    item.updated_at = now()
    record(session, actor, "item.revise", item_id=item.id, revision=number, review_restarted=restarted,
           changed=sorted(changes))
    session.flush()
    return item


def list_items(session: Session, *, status: str | None = None, unit: str | None = None,
               kind: str | None = None, level: int | None = None, limit: int = 50, offset: int = 0) -> list[Item]:
    query = select(Item)
    if status:
        query = query.where(Item.status == status)
    if unit:
        query = query.where(Item.unit_id == get_unit(session, unit).id)
    if kind:
        query = query.where(Item.kind == kind)
    if level is not None:
        query = query.where(Item.review_level == level)
    return list(session.exec(query.order_by(Item.updated_at.desc(), Item.id.desc()).offset(offset).limit(limit)))


def count_items(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Item)).one()


def interpretations_of(session: Session, item: Item) -> list[Item]:
    return list(session.exec(select(Item).where(Item.interprets_id == item.id).order_by(Item.id)))


def today() -> date:
    return now().astimezone(NEWSROOM_TZ).date()
