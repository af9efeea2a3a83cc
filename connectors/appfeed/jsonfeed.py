"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), built by hand from feed state.

`connectors/appfeed/jsonfeed-1.1.schema.json` is the JSON Schema these documents are checked against.

Standard fields we fill
    feed:  version, title, home_page_url, feed_url, description, language "zh-CN",
           hubs [{"type": "WebSub", "url"}] when a hub is configured, next_url for paging, items
    item:  id, url (the portal page, `canonical_url`), title, summary, content_html (every relative
           URL made absolute: `/media/…` under the kitchen base URL, anything else against the portal
           page), image (cover), date_published, date_modified (RFC 3339, +08:00), tags (主题词),
           language, authors, attachments (non-image media such as PDF files)

`id` is `urn:ck:item:{item id}`: it never changes when the item is corrected, and it is the same
string in RSS (`guid`), Atom (`id`), webhook bodies and the removal list below.

Extensions (keys starting with `_`, which other JSON Feed readers ignore)
    item `_gov`: government disclosure metadata, every key present, null when absent
        {"index_no": 索引号, "doc_no": 文号, "issuer": 发布机构,
         "written_date": 成文日期 "YYYY-MM-DD", "topic_category": 主题分类}
    item `_ck`: {"item_id": int, "revision": int, "kind": "news|policy|…",
                 "subtitle": str|null, "correction_note": 更正说明 str|null}
    feed `_ck_removed` (first page only, always present there, newest first):
        [{"id": the item's JSON Feed id, "removed_at": RFC 3339, "reason": str}]
        Items taken down (撤稿) in the last N days (Target.config `removed_days`, default 30;
        kept at least that long). An app that finds one of these ids in its local copy must
        delete it. An item published again later disappears from this list and returns to `items`.
"""

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import nh3

from connectors.appfeed.store import FeedState, Tombstone
from connectors.appfeed.urls import absolute_url, feed_url
from schemas.item import ItemSnapshot

SCHEMA_PATH = Path(__file__).with_name("jsonfeed-1.1.schema.json")
VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPE = "application/feed+json"
FEED_LANGUAGE = "zh-CN"
CST = timezone(timedelta(hours=8), "CST")

# What an app may render of a body: the store's own allowlist, applied again here (the channel
# does not trust the store, like the portal and WeChat renderers).
CONTENT_TAGS = {
    "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "sub", "sup", "span",
    "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "a", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td", "caption",
}
CONTENT_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"},
                      "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
CONTENT_URL_SCHEMES = {"http", "https", "mailto"}

_URL_ATTRIBUTE = re.compile(r"""((?<![\w-])(?:src|href|poster)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def entry_id(item_id: int) -> str:
    return f"urn:ck:item:{item_id}"


def as_cst(moment: datetime) -> datetime:
    """China Standard Time; a naive time is taken to be CST already."""
    return moment.replace(tzinfo=CST) if moment.tzinfo is None else moment.astimezone(CST)


def rfc3339(moment: datetime) -> str:
    return as_cst(moment).isoformat(timespec="seconds")


def absolutize(html: str, base_url: str, page_url: str) -> str:
    """Feed readers have no base URL: `/media/…` goes under the kitchen, other relative URLs resolve as on the portal page."""

    def resolve(match: re.Match) -> str:
        value = match.group(3).strip()
        url = absolute_url(base_url, value) if value.startswith("/media/") else urljoin(page_url, value)
        return f"{match.group(1)}{match.group(2)}{url}{match.group(2)}"

    return _URL_ATTRIBUTE.sub(resolve, html)


def clean_content(html: str) -> str:
    """No script, event handler or `javascript:` URL, whatever the snapshot holds."""
    return nh3.clean(html, tags=CONTENT_TAGS, attributes=CONTENT_ATTRIBUTES, url_schemes=CONTENT_URL_SCHEMES,
                     clean_content_tags={"script", "style"}, link_rel="noopener noreferrer",
                     strip_comments=True).strip()


def render_item(item: ItemSnapshot, base_url: str) -> dict[str, Any]:
    """One item as a JSON Feed item. Pure: the same snapshot and base URL give the same dict."""
    entry: dict[str, Any] = {
        "id": entry_id(item.id),
        "url": item.canonical_url,
        "title": item.title,
        "content_html": absolutize(clean_content(item.body_html), base_url, item.canonical_url),
        "date_published": rfc3339(item.published_at),
        "date_modified": rfc3339(item.updated_at),
        "authors": [{"name": item.author or item.issuer}],
        "language": item.language,
    }
    if item.summary:
        entry["summary"] = item.summary
    if cover := item.cover_media:
        entry["image"] = absolute_url(base_url, cover.path)
    if item.keywords:
        entry["tags"] = list(item.keywords)
    attachments = [
        {
            "url": absolute_url(base_url, m.path),
            "mime_type": m.mime,
            "title": m.filename or m.sha256,
            "size_in_bytes": m.size,
        }
        for m in item.media
        if not m.mime.startswith("image/")
    ]
    if attachments:
        entry["attachments"] = attachments
    entry["_gov"] = {
        "index_no": item.index_no,
        "doc_no": item.doc_no,
        "issuer": item.issuer,
        "written_date": _iso_date(item.written_date),
        "topic_category": item.topic_category,
    }
    entry["_ck"] = {
        "item_id": item.id,
        "revision": item.revision,
        "kind": item.kind.value,
        "subtitle": item.subtitle,
        "correction_note": item.correction_note,
    }
    return entry


def removed_record(tombstone: Tombstone) -> dict[str, str]:
    return {"id": tombstone.entry_id, "removed_at": rfc3339(tombstone.removed_at), "reason": tombstone.reason}


def build_feed(state: FeedState, page: int = 1) -> dict[str, Any]:
    """Page `page` (1-based) of the feed; the removal list rides on page 1, where apps poll."""
    meta = state.meta
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": meta.title,
        "home_page_url": meta.home_page_url,
        "feed_url": feed_url(meta.base_url, state.code),
        "language": FEED_LANGUAGE,
    }
    if meta.description:
        feed["description"] = meta.description
    if meta.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": meta.hub_url}]
    if page < state.page_count():
        feed["next_url"] = feed_url(meta.base_url, state.code, page=page + 1)
    feed["items"] = [e.entry for e in state.page(page)]
    if page == 1:
        feed["_ck_removed"] = [removed_record(t) for t in state.removed]
    return feed


def dumps(feed: dict[str, Any]) -> bytes:
    """UTF-8 JSON with Chinese text as is (smaller and readable)."""
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None
