"""Make an image acceptable to WeChat's upload limits (format and size), re-encoding only when needed.

Covers go to material/add_material (type image: jpg/png/gif/bmp ≤ 2 MB; type thumb: jpg ≤ 64 KB),
inline images to media/uploadimg (jpg/png < 1 MB). A file that already fits is sent unchanged;
anything else (WebP, TIFF, a 5 MB photo) becomes a JPEG, scaled down until it fits.
"""

import io
from dataclasses import dataclass

from PIL import Image

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "BMP": "image/bmp"}
_EXT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "BMP": "bmp"}


@dataclass(frozen=True)
class ImageRule:
    formats: frozenset[str]  # Pillow format names
    max_bytes: int  # largest accepted size, inclusive


COVER_IMAGE = ImageRule(frozenset({"JPEG", "PNG", "GIF", "BMP"}), 2 * 1024 * 1024)
COVER_THUMB = ImageRule(frozenset({"JPEG"}), 64 * 1024)
INLINE_IMAGE = ImageRule(frozenset({"JPEG", "PNG"}), 1024 * 1024 - 1)


def fit_image(data: bytes, rule: ImageRule, name: str) -> tuple[str, bytes, str]:
    """(filename, bytes, mime) ready for a multipart upload; raises PIL.UnidentifiedImageError for non-images."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format in rule.formats and len(data) <= rule.max_bytes:
            return f"{name}.{_EXT[image.format]}", data, _MIME[image.format]
        image.load()
        rgb = _flatten(image)
    quality, scale = 88, 1.0
    while True:
        size = (max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale)))
        out = io.BytesIO()
        rgb.resize(size, Image.LANCZOS).save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= rule.max_bytes or size == (1, 1):
            return f"{name}.jpg", out.getvalue(), "image/jpeg"
        quality, scale = max(60, quality - 8), scale * 0.8


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white, so transparent PNG/GIF areas do not turn black in the JPEG."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def placeholder_cover(color: tuple[int, int, int] = (178, 34, 34)) -> bytes:
    """A plain 900×383 (2.35:1) JPEG for items without any image: WeChat requires a cover."""
    out = io.BytesIO()
    Image.new("RGB", (900, 383), color).save(out, "JPEG", quality=80)
    return out.getvalue()
