"""RSS 2.0 and Atom 1.0 pages of a feed, built with feedgen from the stored JSON Feed entries.

Same ids as the JSON Feed (`guid isPermaLink="false"` / `atom:id`), so a reader switching format
keeps its history. RSS carries the full HTML in `content:encoded` and `pubDate` in RFC 822;
both formats link `rel="self"`, `rel="hub"` (WebSub, when configured) and `rel="next"` (paging,
RFC 5005 style). The removal list exists only in the JSON Feed (`_ck_removed`).

Every timestamp comes from the state, never from the clock, so the same state renders the same
bytes and the server's ETag only changes when the feed does.
"""


from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from connectors.appfeed.jsonfeed import FEED_LANGUAGE, as_cst
from connectors.appfeed.store import FeedState
from connectors.appfeed.urls import FeedFormat, feed_url

RSS_MEDIA_TYPE = "application/rss+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
GENERATOR = "Central Kitchen"


class _ChannelLinks(BaseExtension):
    """feedgen writes only `atom:link rel="self"` into RSS; WebSub and paging need more."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_rss(self, feed):
        channel = feed.find("channel")
        for rel, href in self.links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        return feed


def rss_bytes(state: FeedState, page: int = 1) -> bytes:
    return _generator(state, page, FeedFormat.rss).rss_str()


def atom_bytes(state: FeedState, page: int = 1) -> bytes:
    return _generator(state, page, FeedFormat.atom).atom_str()


def _generator(state: FeedState, page: int, fmt: FeedFormat) -> FeedGenerator:
    meta = state.meta
    media_type = RSS_MEDIA_TYPE if fmt is FeedFormat.rss else ATOM_MEDIA_TYPE
    links = [("hub", meta.hub_url)] if meta.hub_url else []
    if page < state.page_count():
        links.append(("next", feed_url(meta.base_url, state.code, fmt, page + 1)))

    fg = FeedGenerator()
    fg.id(feed_url(meta.base_url, state.code, fmt))
    fg.title(meta.title)
    fg.description(meta.description or meta.title)
    fg.language(FEED_LANGUAGE)
    fg.generator(GENERATOR)
    fg.updated(as_cst(state.updated_at).replace(microsecond=0))
    fg.link(href=feed_url(meta.base_url, state.code, fmt, page), rel="self", type=media_type)
    if fmt is FeedFormat.rss:
        fg.register_extension("ck_links", _ChannelLinks, atom=False, rss=True)
        fg.ck_links.links = links
    else:
        for rel, href in links:
            fg.link(href=href, rel=rel)
    fg.link(href=meta.home_page_url, rel="alternate")  # last: feedgen uses the last link as RSS <link>

    for stored in state.page(page):
        item = stored.entry
        fe = fg.add_entry(order="append")
        fe.guid(item["id"], permalink=False)
        fe.title(item["title"])
        fe.link(href=item["url"], rel="alternate")
        for author in item.get("authors", []):
            fe.author(name=author["name"])
        if item.get("summary"):
            fe.summary(item["summary"])
        else:
            fe.description(item["title"])  # RSS writes content:encoded only beside a description
        fe.content(item["content_html"], type="html")
        fe.published(as_cst(stored.published))
        fe.updated(as_cst(stored.modified))
        for tag in item.get("tags", []):
            fe.category(term=tag)
    return fg

