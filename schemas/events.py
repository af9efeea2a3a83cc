"""Message envelopes on Kafka. No I/O here: bytes in, models out, and back.

- `ItemEvent` on `ck.items` (key: item id): publish, correct or take down one item revision;
  the item itself travels as a ninjs 2.2 document, validated whenever an event is built or decoded.
- `DeliverMessage` on `ck.deliver.<channel>` (key: target code) and `ck.retry.<channel>`: one
  (item revision, target, operation), pointing at its ledger row `delivery_id`.
- `DeadLetter` on `ck.dead-letter`: what failed for good, with the original bytes kept intact.

Every model rejects unknown fields and serialises as UTF-8 JSON with `to_bytes()`; `from_bytes()`
turns anything it cannot accept into a single `EventDecodeError` that says why.
"""

import base64
import uuid
from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas.delivery import Channel, Operation
from schemas.item import ItemSnapshot
from schemas.ninjs import PubStatus, item_uri, to_ninjs, validate_ninjs

_MAX_ERRORS_IN_REASON = 5


class EventDecodeError(ValueError):
    """Bytes that are not a valid message of the expected kind; `reason` says why."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"cannot decode {model}: {reason}")
        self.model = model
        self.reason = reason


def _new_event_id() -> str:
    return str(uuid.uuid4())


def _canonical_uuid(value: str) -> str:
    """Any RFC 4122 UUID in its canonical lowercase form (new ids are uuid4)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"not a UUID: {value!r}") from None


def _describe(exc: ValidationError) -> str:
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    parts = []
    for error in errors[:_MAX_ERRORS_IN_REASON]:
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "json_invalid":
            message = f"invalid JSON: {error['ctx']['error']}" if "ctx" in error else message
        parts.append(f"{where}: {message}" if where else message)
    more = exc.error_count() - _MAX_ERRORS_IN_REASON
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        name = cls.__name__
        if not isinstance(data, bytes | bytearray | memoryview):
            raise EventDecodeError(name, f"expected bytes, got {type(data).__name__}")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventDecodeError(
                name, f"not valid UTF-8 at byte {exc.start}: {exc.reason}"
            ) from exc
        if not text.strip():
            raise EventDecodeError(name, "empty message")
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise EventDecodeError(name, _describe(exc)) from exc


class ItemEvent(_Message):
    """Publish, correct or take down one item revision (`ck.items`, key = item id)."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(default_factory=_new_event_id)
    type: Operation
    item_id: int
    revision: int
    occurred_at: AwareDatetime
    reason: str | None = None
    only_targets: list[str] | None = Field(default=None, min_length=1)
    """Restrict to these target codes (replay). None means every target; an empty list is refused
    so that "no targets" can never be mistaken for "all targets"."""
    force: bool = False
    """Replay even deliveries that already succeeded."""
    item: dict[str, Any]
    """The item as a ninjs 2.2 document (`schemas.ninjs.to_ninjs`)."""

    _check_event_id = field_validator("event_id")(_canonical_uuid)

    @field_validator("item")
    @classmethod
    def _valid_ninjs(cls, item: dict[str, Any]) -> dict[str, Any]:
        validate_ninjs(item)
        return item

    @model_validator(mode="after")
    def _item_matches_envelope(self) -> Self:
        if self.item.get("uri") != item_uri(self.item_id):
            raise ValueError(
                f"item.uri {self.item.get('uri')!r} does not match item_id {self.item_id}"
            )
        if self.item.get("version") != str(self.revision):
            raise ValueError(
                f"item.version {self.item.get('version')!r} does not match revision {self.revision}"
            )
        status = self.item.get("pubstatus", PubStatus.usable.value)
        taken_down = status in (PubStatus.withheld, PubStatus.canceled)
        if taken_down != (self.type is Operation.takedown):
            raise ValueError(f"item.pubstatus {status!r} does not fit a {self.type.value} event")
        return self

    @classmethod
    def from_snapshot(
        cls,
        item: ItemSnapshot,
        type: Operation,
        reason: str | None = None,
        only_targets: list[str] | None = None,
        force: bool = False,
        event_id: str | None = None,
        *,
        occurred_at: datetime | None = None,
        media_base_url: str | None = None,
    ) -> "ItemEvent":
        """Build the event for one snapshot; a takedown marks the item `pubstatus: canceled`."""
        operation = Operation(type)
        pubstatus = PubStatus.canceled if operation is Operation.takedown else PubStatus.usable
        return cls(
            event_id=event_id or _new_event_id(),
            type=operation,
            item_id=item.id,
            revision=item.revision,
            occurred_at=occurred_at or datetime.now(UTC),
            reason=reason,
            only_targets=only_targets,
            force=force,
            item=to_ninjs(item, pubstatus=pubstatus, media_base_url=media_base_url),
        )


class DeliverMessage(_Message):
    """One (item revision, target, operation) for a channel agent, with its ledger row's id."""

    model_config = ConfigDict(extra="forbid")

    delivery_id: int
    item_id: int
    revision: int
    channel: Channel
    target: str
    operation: Operation
    attempt: int = Field(default=0, ge=0)
    not_before: AwareDatetime | None = None
    """For messages on `ck.retry.<channel>`: do not deliver before this moment."""
    event_id: str

    _check_event_id = field_validator("event_id")(_canonical_uuid)


class DeadLetter(_Message):
    """A message that failed for good, kept byte-exact for inspection and manual replay.

    `payload` holds the original bytes as text when they are valid UTF-8 (`payload_encoding`
    "utf-8"), otherwise as standard base64 (`payload_encoding` "base64"); `raw_payload()` gives
    the original bytes back either way. Build one with `DeadLetter.from_raw`.
    """

    model_config = ConfigDict(extra="forbid")

    source_topic: str
    key: str | None = None
    reason: str
    payload: str
    payload_encoding: Literal["utf-8", "base64"]
    delivery_id: int | None = None
    failed_at: AwareDatetime

    @classmethod
    def from_raw(
        cls,
        source_topic: str,
        payload: bytes,
        reason: str,
        *,
        key: bytes | str | None = None,
        delivery_id: int | None = None,
        failed_at: datetime | None = None,
    ) -> "DeadLetter":
        raw = bytes(payload)
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
        if isinstance(key, bytes | bytearray):
            key = bytes(key).decode("utf-8", errors="replace")
        return cls(
            source_topic=source_topic,
            key=key,
            reason=reason,
            payload=text,
            payload_encoding=encoding,
            delivery_id=delivery_id,
            failed_at=failed_at or datetime.now(UTC),
        )

    def raw_payload(self) -> bytes:
        if self.payload_encoding == "base64":
            return base64.b64decode(self.payload, validate=True)
        return self.payload.encode("utf-8")
