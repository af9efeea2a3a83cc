"""The canonical item snapshot: one approved revision of one item, as every channel receives it.

信息同源: every connector renders from exactly this object, so the portal page, the WeChat
article, the Weibo post and the feed entry all come from the same source revision.

Body images are referenced inside `body_html` as `<img src="/media/{sha256}">`; each one is
listed in `media`, and connectors read the bytes through `connectors.base.MediaSource`.
"""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ItemKind(StrEnum):
    news = "news"
    policy = "policy"
    interpretation = "interpretation"
    notice = "notice"
    emergency = "emergency"


class UnitRef(BaseModel):
    code: str
    name: str


class MediaRef(BaseModel):
    sha256: str
    mime: str
    size: int
    width: int | None = None
    height: int | None = None
    filename: str | None = None
    alt: str | None = None

    @property
    def path(self) -> str:
        """The path of this asset under the kitchen's public base URL."""
        return f"/media/{self.sha256}"


class RelationKind(StrEnum):
    interpretation = "interpretation"  # this item is interpreted by the linked one
    interprets = "interprets"  # this item is an interpretation (解读) of the linked policy
    republished_from = "republished_from"  # this item re-publishes (转载) the linked one


class ItemLink(BaseModel):
    id: int
    title: str
    relation: RelationKind
    url: str | None = None


class ItemSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    revision: int
    kind: ItemKind
    title: str
    subtitle: str | None = None
    summary: str = ""
    body_html: str
    language: str = "zh-CN"
    author: str = ""
    unit: UnitRef
    issuer: str  # 发布机构
    index_no: str  # 索引号
    doc_no: str | None = None  # 文号
    written_date: date | None = None  # 成文日期
    published_at: datetime  # 发布日期 (timezone-aware)
    updated_at: datetime
    keywords: list[str] = Field(default_factory=list)  # 主题词
    topic_category: str | None = None  # 主题分类
    columns: list[str] = Field(default_factory=list)  # 栏目 codes
    canonical_url: str  # the portal page, fixed at sign-off
    media: list[MediaRef] = Field(default_factory=list)
    cover: str | None = None  # sha256 of the cover image, one of `media`
    related: list[ItemLink] = Field(default_factory=list)
    correction_note: str | None = None  # 更正说明 when this revision corrects a published one

    def media_by_sha(self, sha256: str) -> MediaRef | None:
        return next((m for m in self.media if m.sha256 == sha256), None)

    @property
    def cover_media(self) -> MediaRef | None:
        if self.cover:
            return self.media_by_sha(self.cover)
        return next((m for m in self.media if m.mime.startswith("image/")), None)
