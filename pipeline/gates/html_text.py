"""Body HTML → the plain text the gates scan, plus the URLs in link-carrying attributes.

Block elements and `<br>` become a line break, so digits or words in neighbouring paragraphs or
table cells never join into one match; inline elements add nothing, so `六<b>合</b>彩` still reads
as one word. Character references are decoded. `<script>`, `<style>`, `<template>` and comments
are not visible text and are skipped. Uses the standard-library parser, which never raises on
malformed markup.
"""

from dataclasses import dataclass
from html.parser import HTMLParser

from pipeline.gates.findings import LinkAttribute

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br caption dd details div dl dt figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot "
    "th thead tr ul".split()
)
_HIDDEN_TAGS = frozenset({"script", "style", "template"})
_LINK_ATTRIBUTES: dict[str, LinkAttribute] = {
    "a": "href",
    "area": "href",
    "img": "src",
    "iframe": "src",
    "embed": "src",
    "video": "src",
    "audio": "src",
    "source": "src",
}


@dataclass(frozen=True)
class Link:
    """A URL from an attribute; `start:end` is the element's visible text in `BodyText.text`."""

    url: str
    attribute: LinkAttribute
    start: int
    end: int


@dataclass(frozen=True)
class BodyText:
    text: str
    links: tuple[Link, ...] = ()


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.links: list[Link] = []
        self.hidden_depth = 0
        self.open_anchor: tuple[str, int] | None = None

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def _break_line(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self._append("\n")

    def _close_anchor(self) -> None:
        if self.open_anchor is not None:
            url, start = self.open_anchor
            self.links.append(Link(url, "href", start, self.length))
            self.open_anchor = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden_depth += 1
            return
        if self.hidden_depth:
            return
        if tag in _BLOCK_TAGS:
            self._break_line()
        if tag == "a":
            self._close_anchor()
        attribute = _LINK_ATTRIBUTES.get(tag)
        url = dict(attrs).get(attribute) if attribute else None
        if url is None:
            return
        if tag == "a":
            self.open_anchor = (url, self.length)
        else:
            self.links.append(Link(url, attribute, self.length, self.length))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden_depth = max(0, self.hidden_depth - 1)
            return
        if self.hidden_depth:
            return
        if tag == "a":
            self._close_anchor()
        if tag in _BLOCK_TAGS:
            self._break_line()

    def handle_data(self, data: str) -> None:
        if data and not self.hidden_depth:
            self._append(data)

    def result(self) -> BodyText:
        self.close()
        self._close_anchor()
        links = sorted(self.links, key=lambda link: (link.start, link.end))
        return BodyText("".join(self.parts), tuple(links))


def extract_body(body_html: str) -> BodyText:
    """Plain text and attribute links of a body's HTML; offsets in findings refer to `.text`."""
    extractor = _Extractor()
    extractor.feed(body_html)
    return extractor.result()
