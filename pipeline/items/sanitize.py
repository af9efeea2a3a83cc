"""Body HTML is cleaned on input to an allowlist: scripts, event handlers and `javascript:` links
never reach the store, so no channel can publish them."""

import re

import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "sub", "sup", "span",
    "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "a", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td", "caption",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}
MEDIA_SRC = re.compile(r'<img[^>]+src="/media/([0-9a-f]{64})"')


def clean_body(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True).strip()


def media_references(html: str) -> list[str]:
    """SHA-256 digests of the store's media used in a cleaned body, in order, without repeats."""
    return list(dict.fromkeys(MEDIA_SRC.findall(html)))


def plain_text(value: str) -> str:
    """Titles and other one-line fields: no markup at all."""
    return nh3.clean(value, tags=set()).strip()
