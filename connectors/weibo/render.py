"""Item → the text of one Weibo post, a link to the item's portal page (statuses/share.json).

Shape: `〔紧急〕〔更正〕【title】summary… https://portal/…`
- The headline stays whole; the summary (or, without one, the body's opening text) is cut with "…".
- The canonical URL always comes last, after a space, whole: share.json refuses a post without a
  link to the app's safe domain (10017), so the link is the one part that is never shortened.
- Emergency items start with 〔紧急〕 and corrections (a `correction_note`) with 〔更正〕. share.json
  does not allow #话题# (hashtags), so no hashtag is used, and a `#` or `@` in the item's own text is
  written full-width (＃ ＠) so Weibo does not read it as a topic or a mention. Other URLs in the
  title or summary are dropped: the portal link is the post's one link.
- Length is counted as Weibo counts a share (see the emulator): each character 1, each URL
  `url_weight` (a t.cn short link), within `max_chars`. Only a headline too long to fit at all is
  cut, as the last resort.
- The cover image goes along as `pic` when it is a JPEG, PNG or GIF under 5 MB (Weibo's limits);
  any other cover is left out and the post goes without a picture.
"""

import re
from html.parser import HTMLParser
from typing import TypedDict

from schemas.item import ItemKind, ItemSnapshot

DEFAULT_MAX_CHARS = 140
DEFAULT_URL_WEIGHT = 20
PIC_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
PIC_MAX_BYTES = 5 * 1024 * 1024
EMERGENCY_MARK = "〔紧急〕"
CORRECTION_MARK = "〔更正〕"
ELLIPSIS = "…"

URL_RE = re.compile(r"https?://[!-~]+")
_SPACE_RE = re.compile(r"\s+")
_TRAILING_PUNCT = "，、；：,;: "
_FULL_WIDTH = str.maketrans({"#": "＃", "@": "＠"})


class WeiboPost(TypedDict):
    status: str
    pic_sha256: str | None


def weibo_length(text: str, url_weight: int = DEFAULT_URL_WEIGHT) -> int:
    """Each character counts 1 and each URL counts `url_weight`, whatever its real length."""
    return len(URL_RE.sub("", text)) + url_weight * len(URL_RE.findall(text))


def render_post(
    item: ItemSnapshot, *, max_chars: int = DEFAULT_MAX_CHARS, url_weight: int = DEFAULT_URL_WEIGHT
) -> WeiboPost:
    tail = " " + item.canonical_url
    budget = max_chars - weibo_length(tail, url_weight)

    marks = (EMERGENCY_MARK if item.kind == ItemKind.emergency else "") + (
        CORRECTION_MARK if item.correction_note else ""
    )
    title = _clean(item.title)
    head = f"{marks}【{title}】"
    if len(head) > budget:
        room = max(budget - len(marks) - 3, 0)
        head = f"{marks}【{title[:room]}{ELLIPSIS}】"

    summary = _clean(item.summary) or _clean(_text_of(item.body_html))
    room = budget - len(head)
    if len(summary) > room:
        cut = summary[: max(room - 1, 0)].rstrip(_TRAILING_PUNCT)
        summary = cut + ELLIPSIS if cut else ""

    return {"status": head + summary + tail, "pic_sha256": _pic(item)}


def _pic(item: ItemSnapshot) -> str | None:
    cover = item.cover_media
    if cover and cover.mime in PIC_TYPES and cover.size <= PIC_MAX_BYTES:
        return cover.sha256
    return None


def _clean(text: str) -> str:
    return _SPACE_RE.sub(" ", URL_RE.sub("", text)).strip().translate(_FULL_WIDTH)


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text_of(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)

