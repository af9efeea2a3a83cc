"""Accepting an uploaded image: a real image of an allowed type and size, stored once by SHA-256."""

import hashlib
import io

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from pipeline.audit import record
from pipeline.errors import Invalid, TooLarge
from pipeline.store.media_files import MediaFiles
from pipeline.store.models import Media, User

ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def store_image(session: Session, files: MediaFiles, actor: User, data: bytes, filename: str | None) -> Media:
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"images are limited to {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise Invalid("the upload is empty")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            fmt, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise Invalid(f"not a readable image: {exc}") from None
    if fmt not in ALLOWED:
        raise Invalid(f"image type {fmt} is not allowed; use JPEG, PNG, GIF or WebP")
    sha = hashlib.sha256(data).hexdigest()
    existing = session.get(Media, sha)
    if existing:
        return existing
    files.put(data)
    media = Media(sha256=sha, mime=ALLOWED[fmt], size=len(data), width=width, height=height,
                  filename=filename, uploaded_by=actor.id)
    session.add(media)
    record(session, actor, "media.upload", sha256=sha, mime=media.mime, size=len(data))
    session.flush()
    return media
