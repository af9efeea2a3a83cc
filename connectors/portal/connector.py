"""The portal channel: each target is one site of the group (站群), published as static files.

`Target.code` is the site code and `Target.columns` the item's columns on that site. `Target.config`:

    output_dir      folder holding every site (`{output_dir}/{site}/…`), served at `{base_url}/sites/`
    base_url        public base URL of the kitchen; pages live under `{base_url}/sites/{site}/…`
    site_name       shown in the header, footer, titles and feed (default: Target.name, then the code)
    columns         {code: name} of the site's columns (栏目), in navigation order
    default_column  used when the target names no column (optional)
    site_id_code    网站标识码 shown in the footer and `SiteIDCode` meta (optional)
    page_size       items per column list page (default 20)
    timezone        zone for dates in URLs and pages (default Asia/Shanghai, as the canonical URL)

On the item's home site the page is at exactly `item.canonical_url`; a site that re-publishes it
(转载) gets its own URL from the same scheme and names the original as its source.
"""

import errno
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.base import MediaSource, PermanentError, classify_default
from connectors.portal.render import PageEntry, render_article
from connectors.portal.site import SiteWriter
from schemas.delivery import Channel, DeliveryState, ErrorClass, Receipt, Target
from schemas.item import ItemSnapshot

# Failures of the local file system that a retry will not cure; the rest (ENOSPC, EIO, …) may pass.
PERMANENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG}


class PortalSiteConfig(BaseModel):
    """`Target.config` of a portal target."""

    model_config = ConfigDict(extra="ignore")

    output_dir: Path
    base_url: str
    site_name: str = ""
    columns: dict[str, str] = Field(min_length=1)
    default_column: str | None = None
    site_id_code: str | None = None
    page_size: int = Field(20, ge=1, le=1000)
    timezone: str = "Asia/Shanghai"

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


@dataclass(frozen=True)
class PortalPage:
    """What `render` returns: the article page as it would be written on one site."""

    site: str
    path: str
    url: str
    html: str


class PortalConnector:
    channel = Channel.portal.value

    def __init__(self, media: MediaSource):
        self.media = media

    def render(self, item: ItemSnapshot, target: Target) -> PortalPage:
        site, columns = self._site(target), self._columns(target)
        path = site.path_for(item, columns[0])
        return PortalPage(site=target.code, path=path, url=site.site.url(path),
                          html=render_article(item, site.site, columns, path))

    def publish(self, item: ItemSnapshot, target: Target) -> Receipt:
        entry = self._site(target).upsert(item, self._columns(target))
        return self._receipt(item, target, entry)

    def correct(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        """The page is rewritten in place (same URL) with the new revision and its 更正 note."""
        return self.publish(item, target)

    def take_down(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        """Idempotent: a page that is already gone is a successful takedown."""
        removed = self._site(target).remove(item.id)
        return Receipt(state=DeliveryState.succeeded, external_id=self._external_id(item, target),
                       url=previous.url if previous else None, detail={"removed": removed})

    def verify(self, item: ItemSnapshot, target: Target, previous: Receipt | None) -> Receipt | None:
        """The receipt when the site's manifest lists this revision (or a newer one) and its page exists."""
        site = self._site(target)
        entry = site.entry(item.id)
        if entry is None or entry.revision < item.revision or not site.file_for(entry.path).is_file():
            return None
        return self._receipt(item, target, entry)

    def classify(self, error: Exception) -> ErrorClass:
        if isinstance(error, OSError):
            return ErrorClass.permanent if error.errno in PERMANENT_ERRNOS else ErrorClass.retryable
        return classify_default(error)

    # -- internals -------------------------------------------------------------------------------

    @staticmethod
    def _config(target: Target) -> PortalSiteConfig:
        try:
            return PortalSiteConfig.model_validate(target.config)
        except ValidationError as exc:
            raise PermanentError(f"portal site {target.code}: bad config: {exc}", code="bad_config") from exc

    def _site(self, target: Target) -> SiteWriter:
        config = self._config(target)
        return SiteWriter(
            config.output_dir, config.base_url, target.code, config.site_name or target.name or target.code,
            config.columns, config.page_size, site_id_code=config.site_id_code, media=self.media,
            timezone=config.timezone,
        )

    def _columns(self, target: Target) -> list[str]:
        """The item's columns on this site: the target's, else the site's default column."""
        config = self._config(target)
        columns = list(target.columns) or ([config.default_column] if config.default_column else [])
        if not columns:
            raise PermanentError(f"portal site {target.code}: no column given and no default_column",
                                 code="no_column")
        unknown = [c for c in columns if c not in config.columns]
        if unknown:
            raise PermanentError(f"portal site {target.code} has no column {', '.join(unknown)}",
                                 code="unknown_column")
        return columns

    @staticmethod
    def _external_id(item: ItemSnapshot, target: Target) -> str:
        return f"{target.code}/{item.id}"

    def _receipt(self, item: ItemSnapshot, target: Target, entry: PageEntry) -> Receipt:
        return Receipt(
            state=DeliveryState.succeeded,
            external_id=self._external_id(item, target),
            url=entry.url,
            detail={"site": target.code, "path": entry.path, "revision": entry.revision, "columns": entry.columns},
        )
