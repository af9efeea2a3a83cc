"""Uploading images into the store, and serving stored media by digest."""

from fastapi import APIRouter, UploadFile, status
from fastapi.responses import Response

from pipeline.api.deps import CurrentUser, SessionDep, SettingsDep
from pipeline.errors import NotFound
from pipeline.media.upload import MAX_IMAGE_BYTES, store_image
from pipeline.store.media_files import MediaFiles
from pipeline.store.models import Media
from schemas.api import MediaPublic

router = APIRouter(prefix="/media", tags=["media"])
public = APIRouter()


def _public(media: Media) -> MediaPublic:
    return MediaPublic(sha256=media.sha256, mime=media.mime, size=media.size, width=media.width,
                       height=media.height, url=f"/media/{media.sha256}")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MediaPublic)
async def upload(file: UploadFile, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    data = await file.read(MAX_IMAGE_BYTES + 1)
    media = store_image(session, MediaFiles(settings.media_dir), user, data, file.filename)
    session.commit()
    return _public(media)


@public.get("/media/{sha256}", include_in_schema=False)
def serve(sha256: str, session: SessionDep, settings: SettingsDep):
    media = session.get(Media, sha256)
    if media is None:
        raise NotFound(f"no media {sha256}")
    data = MediaFiles(settings.media_dir).read(sha256)
    return Response(data, media_type=media.mime, headers={"Cache-Control": "public, max-age=31536000, immutable",
                                                          "ETag": f'"{sha256}"'})
