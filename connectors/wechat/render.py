"""Item → WeChat article: the length limits, WeChat-safe HTML, and the images to upload. No I/O.

WeChat shows article HTML inside its own page: no scripts, no classes or style sheets (inline
`style` only), no links out of mp.weixin.qq.com, and images only from its own image host. So:

- the body goes through nh3 with an allowlist; each kept tag gets an inline style of ours (only
  `text-align` survives from the source, for centred titles and right-aligned signatures);
- links to anywhere but mp.weixin.qq.com become their plain text (the portal page is reached
  through 阅读原文, `content_source_url` = the item's canonical URL);
- `<img src="/media/{sha256}">` stay as placeholders and are listed in `images`; the connector
  uploads them (media/uploadimg) and `WeChatArticle.draft()` swaps in the issued URLs;
- a 更正说明 (correction note) leads the article when the revision corrects a published one.
"""

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from schemas.item import ItemSnapshot

MAX_TITLE, MAX_AUTHOR, MAX_DIGEST = 32, 16, 128
MAX_CONTENT_CHARS = 20_000  # WeChat refuses longer content (45002)

_TAGS = set(
    "p br hr div section span strong b em i u s sub sup h1 h2 h3 h4 h5 h6 blockquote ul ol li"
    " figure figcaption table caption thead tbody tfoot tr th td img a".split()
)
_SPAN = {"colspan", "rowspan"}
_ATTRIBUTES = {"*": {"style"}, "img": {"src", "alt"}, "a": {"href"}, "td": _SPAN, "th": _SPAN}
_RENAME = {"h1": "h2", "h4": "h3", "h5": "h3", "h6": "h3"}
_VOID = {"br", "hr", "img"}
_TEXT = "line-height:1.75;font-size:16px;color:#333"
_STYLES = {
    "p": f"margin:0 0 1em;{_TEXT};text-align:justify",
    "h2": "margin:1.2em 0 .6em;font-size:18px;font-weight:bold;color:#1f1f1f",
    "h3": "margin:1em 0 .5em;font-size:17px;font-weight:bold;color:#1f1f1f",
    "img": "display:block;max-width:100%;height:auto;margin:.8em auto",
    "blockquote": "margin:0 0 1em;padding:.5em 1em;border-left:3px solid #ccc;color:#555",
    "ul": f"margin:0 0 1em;padding-left:2em;{_TEXT}",
    "ol": f"margin:0 0 1em;padding-left:2em;{_TEXT}",
    "table": "width:100%;border-collapse:collapse;margin:0 0 1em;font-size:14px",
    "th": "border:1px solid #d9d9d9;padding:4px 6px",
    "td": "border:1px solid #d9d9d9;padding:4px 6px",
    "figcaption": "text-align:center;font-size:14px;color:#888",
}
_MEDIA_SRC = re.compile(r"/media/([0-9a-f]{64})")
_WECHAT_LINK = re.compile(r"https://mp\.weixin\.qq\.com/", re.IGNORECASE)


@dataclass(frozen=True)
class WeChatArticle:
    """One draft article, with `/media/{sha256}` image placeholders still in `content`."""

    title: str
    author: str
    digest: str
    content: str
    content_source_url: str
    cover: str | None  # sha256 of the cover image, None when the item has no image
    images: tuple[str, ...]  # sha256 of each inline image, in order of first appearance
    need_open_comment: int = 0

    def draft(self, thumb_media_id: str, image_urls: Mapping[str, str]) -> dict:
        """The `draft/add` article, with each placeholder replaced by its uploaded image URL."""
        content = self.content
        for sha in self.images:
            content = content.replace(f'src="/media/{sha}"', f'src="{html.escape(image_urls[sha])}"')
        return {
            "title": self.title,
            "author": self.author,
            "digest": self.digest,
            "content": content,
            "content_source_url": self.content_source_url,
            "thumb_media_id": thumb_media_id,
            "need_open_comment": self.need_open_comment,
            "only_fans_can_comment": 0,
        }


def cut(text: str, limit: int) -> str:
    """At most `limit` characters; a shortened text ends in an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_text(body_html: str) -> str:
    cleaned = nh3.clean(body_html, tags=_TAGS - {"img"}, attributes={}, clean_content_tags={"script", "style"})
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", cleaned)).split())


def render_article(item: ItemSnapshot, *, open_comment: bool = False) -> WeChatArticle:
    body, images = _body(item.body_html, styled=True)
    content = _header(item) + body + _footer(item)
    if len(content) >= MAX_CONTENT_CHARS:  # styles are a nicety; drop them before WeChat refuses the text
        body, images = _body(item.body_html, styled=False)
        content = _header(item) + body + _footer(item)
    cover = item.cover_media
    return WeChatArticle(
        title=cut(item.title, MAX_TITLE),
        author=cut(item.author or item.issuer, MAX_AUTHOR),
        digest=cut(item.summary or plain_text(item.body_html), MAX_DIGEST),
        content=content,
        content_source_url=item.canonical_url,
        cover=cover.sha256 if cover else None,
        images=tuple(images),
        need_open_comment=int(open_comment),
    )


def _paragraph(text: str, style: str) -> str:
    return f'<p style="{style}">{html.escape(text)}</p>'


def _header(item: ItemSnapshot) -> str:
    parts = []
    if item.correction_note:
        note = html.escape(item.correction_note)
        parts.append(
            '<section style="margin:0 0 1em;padding:.6em 1em;background:#fff7e6;border-left:4px solid #d4380d">'
            '<p style="margin:0;line-height:1.75;font-size:16px;color:#8c2d0a">'
            f"<strong>更正说明：</strong>{note}</p></section>"
        )
    if item.subtitle:
        parts.append(_paragraph(item.subtitle, f"margin:0 0 1em;{_TEXT};text-align:center;color:#555"))
    if item.doc_no:
        parts.append(_paragraph(item.doc_no, "margin:0 0 1em;font-size:15px;color:#555;text-align:center"))
    return "".join(parts)


def _footer(item: ItemSnapshot) -> str:
    return _paragraph(f"来源：{item.issuer}", "margin:1.5em 0 0;font-size:14px;color:#888")


def _body(body_html: str, *, styled: bool) -> tuple[str, list[str]]:
    cleaned = nh3.clean(
        body_html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        clean_content_tags={"script", "style"},
        filter_style_properties={"text-align"},
        attribute_filter=_keep_attribute,
        link_rel=None,
    )
    restyle = _Restyle(styled)
    restyle.feed(cleaned)
    restyle.close()
    return "".join(restyle.out), restyle.images


def _merge_styles(*styles: str) -> str:
    """Join inline styles; a later declaration of a property replaces an earlier one."""
    merged: dict[str, str] = {}
    for style in styles:
        for declaration in style.split(";"):
            name, _, value = declaration.partition(":")
            if name.strip() and value.strip():
                merged[name.strip().lower()] = value.strip()
    return ";".join(f"{name}:{value}" for name, value in merged.items())


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    if tag == "a" and attr == "href" and not _WECHAT_LINK.match(value):
        return None
    return value


class _Restyle(HTMLParser):
    """Re-emit sanitised HTML: our inline styles, link-less <a> unwrapped, /media/ images listed."""

    def __init__(self, styled: bool):
        super().__init__(convert_charrefs=True)
        self.styled = styled
        self.out: list[str] = []
        self.images: list[str] = []
        self._links: list[bool] = []  # for each open <a>: was it kept?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "a":
            self._links.append(bool(values.get("href")))
            if not values.get("href"):
                return
        if tag == "img":
            media = _MEDIA_SRC.fullmatch(values.get("src", ""))
            if not media:
                return  # WeChat drops images it does not host; only our own media can be uploaded
            if media.group(1) not in self.images:
                self.images.append(media.group(1))
        tag = _RENAME.get(tag, tag)
        style = _merge_styles(_STYLES.get(tag, "") if self.styled else "", values.pop("style", ""))
        if style:
            values["style"] = style
        attributes = "".join(f' {k}="{html.escape(v)}"' for k, v in values.items())
        self.out.append(f"<{tag}{attributes}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or (tag == "a" and self._links and not self._links.pop()):
            return
        self.out.append(f"</{_RENAME.get(tag, tag)}>")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))
