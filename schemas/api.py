"""Request and response models of the REST API (`/api/v1`). Inputs forbid unknown fields."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.item import ItemKind


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ItemFields(_Input):
    """Everything an editor may set; all optional so a revision can change just one thing."""

    subtitle: str | None = Field(None, max_length=200)
    summary: str | None = Field(None, max_length=2000)
    language: str | None = Field(None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    issuer: str | None = Field(None, max_length=200, description="发布机构; defaults to the unit's name")
    doc_no: str | None = Field(None, max_length=100, description="文号, e.g. 渝府办发〔2019〕64号")
    written_date: date | None = Field(None, description="成文日期; defaults to today")
    keywords: list[str] | None = Field(None, max_length=30, description="主题词")
    topic_category: str | None = Field(None, max_length=100, description="主题分类")
    columns: list[str] | None = Field(None, max_length=20, description="栏目 codes")
    targets: list[str] | None = Field(None, max_length=100, description="channel target codes; default: the unit's")
    cover: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of an uploaded image")
    interprets: int | None = Field(None, description="id of the policy this item interprets (解读)")
    republished_from: int | None = Field(None, description="id of the item this re-publishes (转载)")
    publish_at: datetime | None = Field(None, description="hold distribution until this time")
    correction_note: str | None = Field(None, max_length=1000, description="更正说明 for a published item")

    @field_validator("keywords", "columns", "targets")
    @classmethod
    def _no_blank_entries(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not v.strip() for v in value):
            raise ValueError("entries must not be blank")
        return value


class ItemCreate(ItemFields):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1)
    kind: ItemKind
    unit: str | None = Field(None, description="owning unit code; defaults to the creator's unit")


class ItemUpdate(ItemFields):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1)
    kind: ItemKind | None = None


class ReviewCreate(_Input):
    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=2000)


class TakedownRequest(_Input):
    reason: str = Field(min_length=2, max_length=1000)


class ReviewPublic(BaseModel):
    id: int
    revision: int
    level: int
    level_name: str
    reviewer: str
    decision: str
    comment: str
    at: datetime


class ItemPublic(BaseModel):
    id: int
    status: str
    review_level: int | None
    review_level_name: str | None
    revision: int
    approved_revision: int | None
    published_revision: int | None
    kind: ItemKind
    unit: str
    index_no: str
    title: str
    subtitle: str | None
    summary: str
    body: str
    language: str
    issuer: str
    doc_no: str | None
    written_date: date | None
    published_at: datetime | None
    publish_at: datetime | None
    keywords: list[str]
    topic_category: str | None
    columns: list[str]
    targets: list[str] | None
    cover: str | None
    canonical_url: str | None
    interprets: int | None
    interpretations: list[int]
    republished_from: int | None
    correction_note: str | None
    rejection_reason: str | None
    author: str
    created_at: datetime
    updated_at: datetime
    reviews: list[ReviewPublic]


class ItemSummary(BaseModel):
    id: int
    status: str
    review_level: int | None
    kind: ItemKind
    unit: str
    index_no: str
    title: str
    revision: int
    updated_at: datetime


class AuditPublic(BaseModel):
    id: int
    at: datetime
    actor: str | None
    action: str
    item: int | None
    revision: int | None
    detail: dict


class UnitCreate(_Input):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = None
    org_code: str | None = Field(None, pattern=r"^[0-9A-Z]{6,18}$")


class UnitPublic(BaseModel):
    code: str
    name: str
    parent: str | None
    org_code: str


class MediaPublic(BaseModel):
    sha256: str
    mime: str
    size: int
    width: int | None
    height: int | None
    url: str


class DeliveryPublic(BaseModel):
    id: int
    item: int
    revision: int
    channel: str
    target: str
    operation: str
    state: str
    attempts: int
    external_id: str | None
    url: str | None
    error_class: str | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    succeeded_at: datetime | None


class DeliveryLogPublic(BaseModel):
    at: datetime
    from_state: str | None
    to_state: str
    attempt: int
    detail: dict


class ReplayRequest(_Input):
    states: list[Literal["failed", "dead", "unknown", "retrying", "remote_pending", "succeeded"]] = Field(
        default_factory=lambda: ["failed", "dead", "unknown"], min_length=1)
    channel: Literal["portal", "wechat", "weibo", "appfeed"] | None = None
    target: str | None = None
    item: int | None = Field(None, ge=1, le=2**31 - 1)
    deliveries: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        None, min_length=1, max_length=5000, description="only these ledger rows (delivery ids)")
    since: datetime | None = None
    force: bool = False


class ReplayResult(BaseModel):
    events: int
    deliveries: list[int]
    skipped_withdrawn: int


class TargetCreate(_Input):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    channel: Literal["portal", "wechat", "weibo", "appfeed"]
    unit: str
    name: str = Field(min_length=1, max_length=200)
    config: dict = Field(default_factory=dict)
    is_default: bool = True


class TargetPublic(BaseModel):
    code: str
    channel: str
    unit: str
    name: str
    status: str
    is_default: bool
    config: dict
