"""Rendering a portal site's files from the item snapshot and the site's manifest, with no I/O.

Article pages, paginated column lists (TRS style: `index.html`, `index_1.html`, …), the home page,
`sitemap.xml` (sitemaps.org 0.9) and `rss.xml` (RSS 2.0). Every page is Jinja2 with autoescape on.
The body arrives sanitised from the store; it is cleaned once more here with a stricter allowlist
before it is trusted as markup, and `/media/{sha256}` references are rewritten to the copies in the
site's own `media/` folder (defence in depth: a page never depends on the store being right).
"""

import mimetypes
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nh3
from feedgen.feed import FeedGenerator
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic import BaseModel, Field

from schemas.item import ItemSnapshot, MediaRef, RelationKind

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_MAX_URLS = 50_000
RSS_MAX_ITEMS = 50
HOME_LATEST = 20
HOME_PER_COLUMN = 5

BODY_TAGS = {
    "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "sub", "sup", "span",
    "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "a", "img", "figure", "figcaption",
    "table", "caption", "thead", "tbody", "tr", "th", "td",
}
BODY_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
BODY_DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "svg", "math"}
LINK_SCHEMES = {"http", "https", "mailto"}
SHA256 = re.compile(r"[0-9a-f]{64}")
MEDIA_REF = re.compile(r"/media/([0-9a-f]{64})")
MEDIA_EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "application/pdf": ".pdf",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,  # templates ship with the code; no stat() per page
)


@dataclass(frozen=True)
class SiteInfo:
    """One site of the group: where it lives under the kitchen's public base URL and what it shows."""

    code: str
    name: str
    base_url: str
    columns: Mapping[str, str] = field(default_factory=dict)
    id_code: str | None = None  # 网站标识码
    page_size: int = 20
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")

    @property
    def root(self) -> str:
        return f"/sites/{self.code}/"

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def column_path(self, column: str, page: int = 0) -> str:
        """Page 0 is the column's `index.html` (served at the folder URL), page n is `index_n.html`."""
        return f"{self.root}{column}/" if page == 0 else f"{self.root}{column}/index_{page}.html"

    def media_path(self, ref: MediaRef) -> str:
        return f"{self.root}media/{media_filename(ref)}"

    def day(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%Y-%m-%d")

    def minute(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")


class PageEntry(BaseModel):
    """One article on one site, as the manifest records it and the lists, sitemap and feed show it."""

    title: str
    columns: list[str]
    path: str
    url: str
    published_at: datetime
    updated_at: datetime
    revision: int
    summary: str = ""
    media_files: list[str] = Field(default_factory=list)


def media_filename(ref: MediaRef) -> str:
    """`{sha256}{.ext}`: the digest is checked, since it becomes a file name."""
    if not SHA256.fullmatch(ref.sha256):
        raise ValueError(f"not a SHA-256 hex digest: {ref.sha256!r}")
    extension = MEDIA_EXTENSIONS.get(ref.mime) or mimetypes.guess_extension(ref.mime) or ""
    return f"{ref.sha256}{extension}"


def newest_first(entries: Sequence[PageEntry]) -> list[PageEntry]:
    return sorted(entries, key=lambda e: (e.published_at, e.url), reverse=True)


def sanitize_body(item: ItemSnapshot, site: SiteInfo) -> Markup:
    """Clean `body_html` again and point its media at the site's copies; only then is it markup.

    Images may only show the item's own media; links may be http(s)/mailto or root-relative paths
    (made absolute on the kitchen's base URL); anything else loses its URL.
    """

    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("src", "href"):
            return value
        media = MEDIA_REF.fullmatch(value.strip())
        if media:
            ref = item.media_by_sha(media.group(1))
            return site.url(site.media_path(ref)) if ref else None
        if tag == "img":
            return None
        parts = urlsplit(value.strip())
        if parts.scheme in LINK_SCHEMES and (parts.netloc or parts.scheme == "mailto"):
            return value
        if not parts.scheme and not parts.netloc and value.startswith("/"):
            return site.url(value)
        return None

    cleaned = nh3.clean(
        item.body_html,
        tags=BODY_TAGS,
        clean_content_tags=BODY_DROP_WITH_CONTENT,
        attributes=BODY_ATTRIBUTES,
        attribute_filter=rewrite,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return Markup(cleaned.strip())


def _safe_link(url: str | None) -> str | None:
    """Related-item links come from the store; only absolute http(s) URLs become hrefs."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _nav(site: SiteInfo) -> list[dict[str, str]]:
    return [{"code": code, "name": name, "url": site.url(site.column_path(code))}
            for code, name in site.columns.items()]


def _page_context(site: SiteInfo, title: str, canonical: str, current_column: str | None) -> dict:
    return {
        "site": site,
        "page_title": title,
        "canonical": canonical,
        "nav": _nav(site),
        "current_column": current_column,
        "home_url": site.url(site.root),
        "rss_url": site.url(site.root + "rss.xml"),
    }


def render_article(item: ItemSnapshot, site: SiteInfo, columns: Sequence[str], path: str) -> str:
    """The article page at `path` on `site`; on any site but the item's home site it is a 转载 copy
    that names its source and points `rel=canonical` at the original."""
    url = site.url(path)
    republished = bool(item.canonical_url) and item.canonical_url != url
    column = columns[0] if columns else None
    source_link = next((link for link in item.related if link.relation == RelationKind.republished_from), None)
    original_url = _safe_link(item.canonical_url) if republished else None
    context = _page_context(site, item.title, original_url or url, column)
    context.update(
        item=item,
        url=url,
        original_url=original_url,
        column_name=site.columns.get(column, "") if column else "",
        column_url=site.url(site.column_path(column)) if column and column in site.columns else None,
        source={"title": source_link.title, "url": _safe_link(source_link.url)} if source_link else None,
        interpretations=[
            {"title": link.title, "url": _safe_link(link.url)}
            for link in item.related if link.relation == RelationKind.interpretation
        ],
        policies=[
            {"title": link.title, "url": _safe_link(link.url)}
            for link in item.related if link.relation == RelationKind.interprets
        ],
        body=sanitize_body(item, site),
        cover=site.url(site.media_path(item.cover_media)) if item.cover_media else None,
    )
    return _templates.get_template("article.html.j2").render(context)


def paginate(entries: Sequence[PageEntry], page_size: int) -> list[list[PageEntry]]:
    """Newest first, `page_size` a page; an empty list still has one (empty) page."""
    ordered = newest_first(entries)
    return [ordered[i:i + page_size] for i in range(0, len(ordered), page_size)] or [[]]


def render_column_page(site: SiteInfo, column: str, entries: Sequence[PageEntry], page: int, pages: int,
                       total: int) -> str:
    """One page of a column list; `entries` are the ones on this page, already in order."""

    def link(n: int) -> str | None:
        return site.url(site.column_path(column, n)) if 0 <= n < pages else None

    url = link(page)
    context = _page_context(site, site.columns[column], url, column)
    context.update(
        column_name=site.columns[column],
        entries=entries,
        page=page,
        pages=pages,
        total=total,
        pager={
            "first": link(0) if page > 0 else None,
            "prev": link(page - 1),
            "next": link(page + 1),
            "last": link(pages - 1) if page < pages - 1 else None,
        },
    )
    return _templates.get_template("column.html.j2").render(context)


def render_home(site: SiteInfo, entries: Sequence[PageEntry]) -> str:
    ordered = newest_first(entries)
    sections = [
        {
            "code": code,
            "name": name,
            "url": site.url(site.column_path(code)),
            "entries": [e for e in ordered if code in e.columns][:HOME_PER_COLUMN],
        }
        for code, name in site.columns.items()
    ]
    context = _page_context(site, "首页", site.url(site.root), None)
    context.update(latest=ordered[:HOME_LATEST], sections=sections)
    return _templates.get_template("home.html.j2").render(context)


def render_sitemaps(site: SiteInfo, entries: Sequence[PageEntry],
                    max_urls: int = SITEMAP_MAX_URLS) -> dict[str, bytes]:
    """`sitemap.xml` for the site; above `max_urls` it becomes a sitemap index over
    `sitemap_1.xml`, `sitemap_2.xml`, … Returns file name → bytes."""
    ordered = newest_first(entries)
    lastmod = max((e.updated_at for e in ordered), default=None)
    urls: list[tuple[str, datetime | None, str, str]] = [(site.url(site.root), lastmod, "daily", "1.0")]
    for code in site.columns:
        listed = [e.updated_at for e in ordered if code in e.columns]
        urls.append((site.url(site.column_path(code)), max(listed, default=None), "daily", "0.8"))
    urls += [(e.url, e.updated_at, "monthly", "0.6") for e in ordered]

    if len(urls) <= max_urls:
        return {"sitemap.xml": _urlset(urls, site.tz)}
    files = {
        f"sitemap_{n}.xml": _urlset(urls[start:start + max_urls], site.tz)
        for n, start in enumerate(range(0, len(urls), max_urls), start=1)
    }
    index = ET.Element("sitemapindex", xmlns=SITEMAP_NS)
    for name in files:
        sitemap = ET.SubElement(index, "sitemap")
        ET.SubElement(sitemap, "loc").text = site.url(site.root + name)
        if lastmod:
            ET.SubElement(sitemap, "lastmod").text = _w3c(lastmod, site.tz)
    return {"sitemap.xml": _xml(index), **files}


def _urlset(urls: Sequence[tuple[str, datetime | None, str, str]], tz: ZoneInfo) -> bytes:
    urlset = ET.Element("urlset", xmlns=SITEMAP_NS)
    for loc, lastmod, changefreq, priority in urls:
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = loc
        if lastmod:
            ET.SubElement(url, "lastmod").text = _w3c(lastmod, tz)
        ET.SubElement(url, "changefreq").text = changefreq
        ET.SubElement(url, "priority").text = priority
    return _xml(urlset)


def _w3c(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds")


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def render_rss(site: SiteInfo, entries: Sequence[PageEntry], max_items: int = RSS_MAX_ITEMS) -> bytes:
    """RSS 2.0 of the site's newest articles; the build date is the newest change, so an unchanged
    site renders byte-identical feeds."""
    ordered = newest_first(entries)[:max_items]
    feed = FeedGenerator()
    feed.title(site.name)
    feed.link(href=site.url(site.root + "rss.xml"), rel="self")
    feed.link(href=site.url(site.root), rel="alternate")  # after `self`: RSS keeps the last link
    feed.description(f"{site.name} 最新信息")
    feed.language("zh-CN")
    if ordered:
        feed.lastBuildDate(max(e.updated_at for e in ordered))
    for entry in ordered:
        feed_entry = feed.add_entry(order="append")
        feed_entry.title(entry.title)
        feed_entry.link(href=entry.url)
        feed_entry.guid(entry.url, permalink=True)
        feed_entry.pubDate(entry.published_at)
        feed_entry.description(entry.summary or entry.title)
    return feed.rss_str(pretty=True)
