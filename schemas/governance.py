"""Request and response models of the governance API (`/api/v1/governance`). Inputs forbid unknown
fields; credentials go in, only their names come out."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Filing(_Input):
    """A 备案 record and who answers for the account."""

    filing_no: str | None = Field(None, max_length=100, description="备案号")
    filing_approver: str | None = Field(None, max_length=200, description="who approved the 备案")
    filing_date: date | None = Field(None, description="备案 date")
    responsible_person: str | None = Field(None, max_length=100)


class TargetApplication(Filing):
    """开设: apply for a new site, account or feed; it starts as `applied`."""

    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    channel: Literal["portal", "wechat", "weibo", "appfeed"]
    unit: str
    name: str = Field(min_length=1, max_length=200)
    config: dict = Field(default_factory=dict, description="settings and credentials; credentials are sealed")
    is_default: bool = True


class StatusChangeRequest(Filing):
    to: Literal["applied", "active", "suspended", "closed"]
    reason: str = Field(min_length=2, max_length=1000)


class Decision(_Input):
    comment: str = Field("", max_length=1000)


class Reconnect(_Input):
    credentials: dict = Field(default_factory=dict, description="new token or secret; merged, sealed, never returned")


class RegistryChangePublic(BaseModel):
    id: int
    target: str
    from_status: str
    to_status: str
    reason: str
    filing: dict
    requested_by: str
    requested_at: datetime
    decision: str
    decided_by: str | None
    decided_at: datetime | None
    comment: str


class RegistryEntry(BaseModel):
    code: str
    channel: str
    unit: str
    name: str
    status: str
    status_changed_at: datetime | None
    is_default: bool
    responsible_person: str | None
    filing_no: str | None
    filing_approver: str | None
    filing_date: date | None
    missing_for_active: list[str]
    health: str
    health_reason: str | None
    health_since: datetime | None
    credentials: list[str] = Field(description="names of the sealed credentials, never their values")
    config: dict
    pending_changes: list[int]


class ColumnFreshness(BaseModel):
    column: str
    name: str
    last: datetime | None
    period_days: int
    stale: bool


class TargetFreshness(BaseModel):
    code: str
    channel: str
    unit: str
    name: str
    status: str
    rule: str
    state: Literal["ok", "sleeping", "zombie", "not_assessed"]
    label: str
    meets: bool
    last: datetime | None
    count: int
    window_start: datetime
    columns: list[ColumnFreshness] = Field(default_factory=list)


class FreshnessHistory(BaseModel):
    unit: str
    weeks: list[date]
    targets: list[dict]


class Obligation(_Input):
    rule: Literal["livelihood", "reply"]
    starts_at: datetime = Field(description="the 民生 event, or when the question came in")
    note: str = Field("", max_length=1000)


class ItemDeadline(BaseModel):
    item: int
    title: str
    unit: str
    kind: str
    status: str
    rule: str
    rule_name: str
    starts: datetime
    due_at: datetime
    due_date: date
    estimated: bool
    state: Literal["met", "late", "open", "overdue"]
    published_at: datetime | None
    late_hours: float | None


class FindingPublic(BaseModel):
    id: int
    item: int
    title: str
    revision: int
    rule: str
    field: str
    start: int
    end: int
    text: str
    message: str
    found_at: datetime
    status: str
    resolved_by: str | None
    resolved_at: datetime | None
    note: str


class FindingTakedown(_Input):
    reason: str | None = Field(None, min_length=2, max_length=1000, description="default: the finding")


class RescanSummary(BaseModel):
    scanned: int
    new_findings: int
    cleared: int
    dictionary: str
    reason: str
