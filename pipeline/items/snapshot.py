"""Freezing one revision into the `ItemSnapshot` every channel renders from (信息同源)."""

from sqlmodel import Session, select

from pipeline.clock import aware, now
from pipeline.items.sanitize import media_references
from pipeline.store.models import Item, ItemRevision, Media, Unit, User
from schemas.item import ItemKind, ItemLink, ItemSnapshot, MediaRef, RelationKind, UnitRef

LINKABLE = ("approved", "published")


def _link(item: Item, title: str, relation: RelationKind) -> ItemLink:
    return ItemLink(id=item.id, title=title, relation=relation, url=item.canonical_url)


def _public_title(session: Session, item: Item) -> str:
    number = item.published_revision or item.approved_revision or item.current_revision
    return session.exec(
        select(ItemRevision.title).where(ItemRevision.item_id == item.id, ItemRevision.number == number)
    ).one()


def related_links(session: Session, item: Item) -> list[ItemLink]:
    links: list[ItemLink] = []
    if item.interprets_id:
        policy = session.get(Item, item.interprets_id)
        links.append(_link(policy, _public_title(session, policy), RelationKind.interprets))
    for other in session.exec(select(Item).where(Item.interprets_id == item.id).order_by(Item.id)):
        if other.status in LINKABLE or other.published_revision:
            links.append(_link(other, _public_title(session, other), RelationKind.interpretation))
    if item.republished_from_id:
        source = session.get(Item, item.republished_from_id)
        links.append(_link(source, _public_title(session, source), RelationKind.republished_from))
    return links


def build_snapshot(session: Session, item: Item, revision: ItemRevision) -> ItemSnapshot:
    unit = session.get(Unit, item.unit_id)
    author = session.get(User, revision.author_id)
    shas = media_references(revision.body_html)
    if revision.cover and revision.cover not in shas:
        shas.insert(0, revision.cover)
    rows = {m.sha256: m for m in session.exec(select(Media).where(Media.sha256.in_(shas)))} if shas else {}
    media = [MediaRef(sha256=s, mime=rows[s].mime, size=rows[s].size, width=rows[s].width,
                      height=rows[s].height, filename=rows[s].filename) for s in shas if s in rows]
    return ItemSnapshot(
        id=item.id,
        revision=revision.number,
        kind=ItemKind(item.kind),
        title=revision.title,
        subtitle=revision.subtitle,
        summary=revision.summary,
        body_html=revision.body_html,
        language=revision.language,
        author=author.display_name if author else "",
        unit=UnitRef(code=unit.code, name=unit.name),
        issuer=revision.issuer,
        index_no=item.index_no,
        doc_no=revision.doc_no,
        written_date=revision.written_date,
        published_at=aware(item.published_at) or aware(item.publish_at) or now(),
        updated_at=now(),
        keywords=revision.keywords,
        topic_category=revision.topic_category,
        columns=revision.columns,
        canonical_url=item.canonical_url or "",
        media=media,
        cover=revision.cover or (media[0].sha256 if media else None),
        related=related_links(session, item),
        correction_note=revision.correction_note,
    )
