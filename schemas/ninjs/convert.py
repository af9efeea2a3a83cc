"""One item snapshot as a ninjs 2.2 document: the item carried on `ck.items`.

ninjs 2.2 has no `keywords`, `links` or `subheadline` properties and rejects any property it
does not define, so Central Kitchen's fields map onto the shapes 2.2 does have:

- id → `uri` `urn:ck:item:{id}`; revision → `version` str(revision)
- published_at → `firstcreated`; updated_at → `versioncreated`; written_date 成文日期 →
  `contentcreated` (midnight, in published_at's offset)
- title / subtitle → `headlines` role `main` / `sub`
- summary → `descriptions` role `summary`; correction_note 更正说明 → `descriptions` role
  `correction` (a published note, so not `ednote`)
- body_html → `bodies` role `main`, contenttype text/html; author → `by`
- kind → `genres` literal = kind
- keywords 主题词 → `subjects` rel `keyword`; topic_category 主题分类 → `subjects` rel
  `topic-category`; columns 栏目 → `subjects` rel `column`, literal = column code
- issuer 发布机构 → `infosources` role `issuer`; unit → `infosources` role `unit`, literal = code
- index_no 索引号 / doc_no 文号 → `altids` role `index_no` / `doc_no`
- canonical_url → `renditions` name `canonical` (text/html): the portal page is this item's
  rendition
- media → `associations` named `cover` (the cover) or `media`, uri `urn:ck:media:{sha256}`, type
  from the mime type, alt → `descriptions` role `alt`, one rendition `original` with contenttype,
  width, height, sizeinbytes, title = filename, and `href` = public base URL + `/media/{sha256}`
  when a base URL is given
- related → `associations` named by relation (`interpretation`, `interprets`,
  `republished_from`), uri `urn:ck:item:{id}`, a `main` headline, and a `canonical` rendition
  when the link has a URL

Every `href` is an absolute URI, as the schema's `format: uri` requires; a relative URL is a
`ValueError` here rather than a quietly invalid document downstream.
"""

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from schemas.item import ItemKind, ItemLink, ItemSnapshot, MediaRef
from schemas.ninjs.validation import NINJS_SCHEMA_ID

ITEM_URN_PREFIX = "urn:ck:item:"
MEDIA_URN_PREFIX = "urn:ck:media:"

_STANDARD = {"name": "ninjs", "version": "2.2", "schema": NINJS_SCHEMA_ID}

_KIND_NAMES = {
    ItemKind.news: "新闻",
    ItemKind.policy: "政策文件",
    ItemKind.interpretation: "政策解读",
    ItemKind.notice: "通知公告",
    ItemKind.emergency: "突发事件",
}

_MEDIA_TYPES = {"image": "picture", "audio": "audio", "video": "video"}


class PubStatus(StrEnum):
    """ninjs `pubstatus`: `withheld` pauses an item, `canceled` withdraws it for good."""

    usable = "usable"
    withheld = "withheld"
    canceled = "canceled"


def item_uri(item_id: int) -> str:
    return f"{ITEM_URN_PREFIX}{item_id}"


def media_uri(sha256: str) -> str:
    return f"{MEDIA_URN_PREFIX}{sha256}"


def to_ninjs(
    item: ItemSnapshot,
    *,
    pubstatus: PubStatus = PubStatus.usable,
    media_base_url: str | None = None,
) -> dict[str, Any]:
    """Map one approved revision onto ninjs 2.2, losing nothing the channels need.

    `media_base_url` is the kitchen's public base URL (for example `https://ck.example.gov.cn`);
    without it, media renditions carry no `href` and the asset is named by its `urn:ck:media:` uri.
    """
    doc: dict[str, Any] = {
        "uri": item_uri(item.id),
        "standard": dict(_STANDARD),
        "type": "text",
        "representationtype": "full",
        "version": str(item.revision),
        "firstcreated": _date_time(item.published_at, "published_at"),
        "versioncreated": _date_time(item.updated_at, "updated_at"),
        "pubstatus": PubStatus(pubstatus).value,
        "language": item.language,
        "headlines": [{"role": "main", "contenttype": "text/plain", "value": item.title}],
        "bodies": [{"role": "main", "contenttype": "text/html", "value": item.body_html}],
        "genres": [{"name": _KIND_NAMES[item.kind], "literal": item.kind.value}],
        "infosources": [
            {"name": item.issuer, "role": "issuer"},
            {"name": item.unit.name, "literal": item.unit.code, "role": "unit"},
        ],
        "altids": [{"role": "index_no", "value": item.index_no}],
        "renditions": [_page_rendition(item.canonical_url, "canonical_url")],
    }
    if item.written_date is not None:
        doc["contentcreated"] = _start_of_day(item.written_date, item.published_at)
    if item.subtitle:
        subtitle = {"role": "sub", "contenttype": "text/plain", "value": item.subtitle}
        doc["headlines"].append(subtitle)
    descriptions = []
    if item.summary:
        descriptions.append({"role": "summary", "contenttype": "text/plain", "value": item.summary})
    if item.correction_note:
        descriptions.append(
            {"role": "correction", "contenttype": "text/plain", "value": item.correction_note}
        )
    if descriptions:
        doc["descriptions"] = descriptions
    if item.author:
        doc["by"] = item.author
    subjects = [{"name": word, "rel": "keyword"} for word in item.keywords]
    if item.topic_category:
        subjects.append({"name": item.topic_category, "rel": "topic-category"})
    subjects.extend({"literal": code, "rel": "column"} for code in item.columns)
    if subjects:
        doc["subjects"] = subjects
    if item.doc_no:
        doc["altids"].append({"role": "doc_no", "value": item.doc_no})
    associations = [_media_association(m, item.cover, media_base_url) for m in item.media]
    associations.extend(_related_association(link) for link in item.related)
    if associations:
        doc["associations"] = associations
    return doc


def _date_time(value: datetime, field: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware, got {value.isoformat()}")
    return value.isoformat()


def _start_of_day(day: date, reference: datetime) -> str:
    return datetime.combine(day, time(), tzinfo=reference.tzinfo).isoformat()


def _absolute_url(url: str, field: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{field} must be an absolute URL for ninjs href, got {url!r}")
    return url


def _page_rendition(url: str, field: str) -> dict[str, Any]:
    return {"name": "canonical", "href": _absolute_url(url, field), "contenttype": "text/html"}


def _media_association(media: MediaRef, cover: str | None, base_url: str | None) -> dict[str, Any]:
    rendition: dict[str, Any] = {
        "name": "original",
        "contenttype": media.mime,
        "sizeinbytes": media.size,
    }
    if base_url is not None:
        rendition["href"] = _absolute_url(base_url.rstrip("/") + media.path, "media_base_url")
    if media.width is not None:
        rendition["width"] = media.width
    if media.height is not None:
        rendition["height"] = media.height
    if media.filename:
        rendition["title"] = media.filename
    association: dict[str, Any] = {
        "name": "cover" if media.sha256 == cover else "media",
        "uri": media_uri(media.sha256),
    }
    media_type = _MEDIA_TYPES.get(media.mime.split("/", 1)[0])
    if media_type:
        association["type"] = media_type
    if media.alt:
        alt = {"role": "alt", "contenttype": "text/plain", "value": media.alt}
        association["descriptions"] = [alt]
    association["renditions"] = [rendition]
    return association


def _related_association(link: ItemLink) -> dict[str, Any]:
    association: dict[str, Any] = {
        "name": link.relation.value,
        "uri": item_uri(link.id),
        "type": "text",
        "headlines": [{"role": "main", "contenttype": "text/plain", "value": link.title}],
    }
    if link.url:
        association["renditions"] = [_page_rendition(link.url, f"related[{link.id}].url")]
    return association
