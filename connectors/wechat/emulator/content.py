"""What WeChat does to what it is sent: sniff uploaded files, filter article HTML.

WeChat strips JavaScript from article content and drops every `<img>` whose address it did
not issue itself (media/uploadimg); the emulator does the same, so a connector that forgets
to upload an inline image sees it vanish here exactly as it would on the real platform.
"""

import html
import re

_MAGIC = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)
_EXTENSIONS = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "gif": "gif", "bmp": "bmp"}

_SCRIPT = re.compile(r"<script\b.*?(?:</script\s*>|$)", re.IGNORECASE | re.DOTALL)
_HANDLER = re.compile(r"""\s+on[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_JS_URL = re.compile(r"""(href|src)\s*=\s*(["']?)\s*javascript:[^"'>\s]*\2""", re.IGNORECASE)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def sniff_image(data: bytes) -> str | None:
    """The image format from its first bytes: jpg, png, gif, bmp, or None."""
    return next((fmt for magic, fmt in _MAGIC if data.startswith(magic)), None)


def extension_format(filename: str) -> str | None:
    """The format the file name claims (WeChat infers the type from it)."""
    _, dot, ext = filename.rpartition(".")
    return _EXTENSIONS.get(ext.lower()) if dot else None


def url_key(url: str) -> str:
    """Compare image URLs without their scheme: http and https name the same mmbiz image."""
    return re.sub(r"^(?:https?:)?//", "", html.unescape(url.strip()), flags=re.IGNORECASE)


def filter_content(content: str, issued: set[str]) -> str:
    """Strip scripts, event handlers and javascript: URLs; drop images WeChat did not issue."""
    content = _SCRIPT.sub("", content)
    content = _HANDLER.sub("", content)
    content = _JS_URL.sub("", content)

    def keep_issued(match: re.Match) -> str:
        src = _SRC.search(match.group(0))
        value = next((g for g in src.groups() if g is not None), "") if src else ""
        return match.group(0) if value and url_key(value) in issued else ""

    return _IMG.sub(keep_issued, content)


def plain_text(content: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", content)).split())
