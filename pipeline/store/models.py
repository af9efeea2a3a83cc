"""The tables of the resource store. Rows never leave the store directly: the API returns
`schemas.api` models and the channels receive `schemas.item.ItemSnapshot` copies."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pipeline.clock import now


def _ts(**kw: Any):
    return Field(default_factory=now, sa_type=DateTime(timezone=True), **kw)


class Unit(SQLModel, table=True):
    """An organisation: the city, a district, a department."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="unit.id")
    org_code: str = Field(max_length=32)  # 组织机构代码: the first part of every 索引号
    created_at: datetime = _ts()


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=64)
    display_name: str = Field(default="", max_length=100)
    role: str = Field(max_length=16)
    unit_id: int = Field(foreign_key="unit.id")
    token_hash: str = Field(unique=True, index=True, max_length=64)
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = _ts()


class IndexCounter(SQLModel, table=True):
    """The last 索引号 serial issued per unit and year."""

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=20)
    status: str = Field(default="draft", index=True, max_length=20)
    review_level: int = 0  # the level now waiting for a decision while in_review
    current_revision: int = 1
    approved_revision: int | None = None
    published_revision: int | None = None
    index_no: str = Field(unique=True, max_length=40)  # 索引号
    canonical_url: str | None = Field(default=None, max_length=500)
    interprets_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    republished_from_id: int | None = Field(default=None, foreign_key="item.id")
    publish_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    published_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    rejection_reason: str | None = Field(default=None, sa_type=Text)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ItemRevision(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    number: int
    title: str = Field(max_length=200)
    subtitle: str | None = Field(default=None, max_length=200)
    summary: str = Field(default="", sa_type=Text)
    body_html: str = Field(sa_type=Text)
    language: str = Field(default="zh-CN", max_length=16)
    issuer: str = Field(max_length=200)  # 发布机构
    doc_no: str | None = Field(default=None, max_length=100)  # 文号
    written_date: date | None = None  # 成文日期
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    topic_category: str | None = Field(default=None, max_length=100)
    columns: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    targets: list[str] | None = Field(default=None, sa_column=Column(JSON))
    cover: str | None = Field(default=None, max_length=64)
    correction_note: str | None = Field(default=None, sa_type=Text)
    author_id: int = Field(foreign_key="user.id")
    created_at: datetime = _ts()
    snapshot: dict | None = Field(default=None, sa_column=Column(JSON))  # frozen at sign-off


class Review(SQLModel, table=True):
    """One decision by one person on one level of one revision (谁审查谁负责)."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    revision: int
    level: int
    reviewer_id: int = Field(foreign_key="user.id")
    decision: str = Field(max_length=10)
    comment: str = Field(default="", sa_type=Text)
    created_at: datetime = _ts()


class Media(SQLModel, table=True):
    sha256: str = Field(primary_key=True, max_length=64)
    mime: str = Field(max_length=100)
    size: int
    width: int | None = None
    height: int | None = None
    filename: str | None = Field(default=None, max_length=255)
    uploaded_by: int = Field(foreign_key="user.id")
    created_at: datetime = _ts()


class AuditEntry(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted."""

    __table_args__ = (Index("ix_auditentry_item_at", "item_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=40)
    item_id: int | None = None
    revision: int | None = None
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ChannelTarget(SQLModel, table=True):
    """A portal site, WeChat account, Weibo account or app feed, owned by a unit.

    `config` holds the channel's settings (columns of a site, appid of an account …); secrets in it
    are never returned by the API."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    channel: str = Field(index=True, max_length=16)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=200)
    status: str = Field(default="active", max_length=16)
    is_default: bool = True  # part of the unit's targets when an item names none
    config: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
    # governance: 备案, lifecycle, sealed credentials and token health (pipeline/governance)
    responsible_person: str | None = Field(default=None, max_length=100)
    filing_no: str | None = Field(default=None, max_length=100)  # 备案号
    filing_approver: str | None = Field(default=None, max_length=200)
    filing_date: date | None = None
    status_changed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    secrets: str | None = Field(default=None, sa_type=Text)  # a Fernet token: never returned, never logged
    health: str = Field(default="ok", max_length=20)  # ok · needs_reconnect
    health_reason: str | None = Field(default=None, sa_type=Text)
    health_since: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class OutboxEntry(SQLModel, table=True):
    """An event written in the same transaction as the change it announces; the relay sends it."""

    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "available_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    topic: str = Field(max_length=100)
    key: str = Field(max_length=100)
    payload: str = Field(sa_type=Text)
    item_id: int | None = Field(default=None, index=True)
    event_type: str | None = Field(default=None, max_length=16)
    revision: int | None = None
    created_at: datetime = _ts()
    available_at: datetime = _ts()
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)


class Delivery(SQLModel, table=True):
    """The ledger: one row per (item revision, target, operation). Exactly-once effect lives here."""

    __table_args__ = (
        UniqueConstraint("item_id", "revision", "target_code", "operation"),
        Index("ix_delivery_state_channel", "state", "channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    revision: int
    channel: str = Field(max_length=16)
    target_code: str = Field(max_length=64, index=True)
    operation: str = Field(max_length=16)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    external_id: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=1000)
    receipt: dict | None = Field(default=None, sa_column=Column(JSON))
    error_class: str | None = Field(default=None, max_length=16)
    last_error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    event_id: str = Field(max_length=36)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    succeeded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class DeliveryLog(SQLModel, table=True):
    """Every state change of a delivery, in order (the ledger's history)."""

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    at: datetime = _ts()
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    attempt: int = 0
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RegistryChange(SQLModel, table=True):
    """A requested lifecycle change of a target (开设、变更、关停、注销) and the decision on it."""

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="channeltarget.id", index=True)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    reason: str = Field(sa_type=Text)
    filing: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requested_by: int = Field(foreign_key="user.id")
    requested_at: datetime = _ts()
    decision: str = Field(default="pending", index=True, max_length=16)  # pending · approved · rejected
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    comment: str = Field(default="", sa_type=Text)


class ItemObligation(SQLModel, table=True):
    """A publishing deadline that cannot be read off the item itself: a 民生 activity (event time) or a
    reply (when the question came in). Normative documents need none: their 成文日期 is on the revision."""

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    rule: str = Field(max_length=16)  # livelihood · reply
    starts_at: datetime = Field(sa_type=DateTime(timezone=True))
    note: str = Field(default="", sa_type=Text)
    set_by: int = Field(foreign_key="user.id")
    created_at: datetime = _ts()


class RescanFinding(SQLModel, table=True):
    """A gate hit found in an already published item by a later rescan, for signers to act on."""

    __table_args__ = (UniqueConstraint("item_id", "revision", "rule", "field", "start", "text"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    revision: int
    rule: str = Field(max_length=32)
    field: str = Field(max_length=16)
    start: int
    end: int
    text: str = Field(max_length=500)
    message: str = Field(default="", sa_type=Text)
    found_at: datetime = _ts()
    status: str = Field(default="open", index=True, max_length=16)  # open · dismissed · taken_down · cleared
    resolved_by: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    note: str = Field(default="", sa_type=Text)


class GovernanceState(SQLModel, table=True):
    """Small named records the governance jobs keep between runs (the last rescan and its dictionary)."""

    key: str = Field(primary_key=True, max_length=64)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts()
