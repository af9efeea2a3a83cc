"""Delivery contracts: where an item goes (Target), what came back (Receipt), how errors rank."""

from enum import StrEnum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Channel(StrEnum):
    portal = "portal"
    wechat = "wechat"
    weibo = "weibo"
    appfeed = "appfeed"


class Operation(StrEnum):
    publish = "publish"
    correct = "correct"
    takedown = "takedown"


class DeliveryState(StrEnum):
    pending = "pending"
    in_flight = "in_flight"
    remote_pending = "remote_pending"  # the platform accepted a job that has not finished
    succeeded = "succeeded"
    retrying = "retrying"
    unknown = "unknown"  # the call may have taken effect; verify before any retry
    failed = "failed"
    dead = "dead"


class ErrorClass(StrEnum):
    retryable = "retryable"
    permanent = "permanent"
    unknown = "unknown"


class Target(BaseModel):
    """One resolved destination: a portal site, a WeChat account, a Weibo account or an app feed."""

    channel: Channel
    code: str
    name: str = ""
    unit: str = ""
    columns: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    # the registry's word when the target was read (status, health, health_reason, health_since):
    # the delivery's own transaction read it, so the guard need not read it again
    registry: tuple[str, str, str | None, datetime | None] | None = None


class Receipt(BaseModel):
    """What the platform said: its id and public URL, or a job still running there."""

    state: DeliveryState = DeliveryState.succeeded
    external_id: str | None = None
    url: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
