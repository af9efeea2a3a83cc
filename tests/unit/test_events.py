"""Kafka envelopes: round-trips, strict fields, and one clear error for every bad message."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.delivery import Channel, Operation
from schemas.events import DeadLetter, DeliverMessage, EventDecodeError, ItemEvent
from schemas.item import ItemSnapshot

DATA = Path(__file__).resolve().parent.parent / "data"
CST = timezone(timedelta(hours=8))
OCCURRED = datetime(2019, 7, 3, 16, 6, tzinfo=CST)
EVENT_ID = "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"


def policy_item() -> ItemSnapshot:
    return ItemSnapshot.model_validate_json((DATA / "items" / "policy_item_zh.json").read_bytes())


def publish_event(**kwargs: object) -> ItemEvent:
    kwargs = {"occurred_at": OCCURRED, "event_id": EVENT_ID} | kwargs
    return ItemEvent.from_snapshot(policy_item(), Operation.publish, **kwargs)


def edited(data: bytes, change) -> bytes:
    doc = json.loads(data)
    change(doc)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def deliver_message(**changes: object) -> DeliverMessage:
    fields = {
        "delivery_id": 88,
        "item_id": 1024,
        "revision": 2,
        "channel": Channel.weibo,
        "target": "cq-weibo-main",
        "operation": Operation.publish,
        "event_id": EVENT_ID,
    }
    return DeliverMessage(**(fields | changes))


# -- ItemEvent ----------------------------------------------------------------------------------


def test_item_event_from_snapshot():
    event = publish_event(media_base_url="https://ck.example.gov.cn")
    assert event.event_id == EVENT_ID
    assert (event.type, event.item_id, event.revision) == (Operation.publish, 1024, 2)
    assert event.occurred_at == OCCURRED
    assert (event.reason, event.only_targets, event.force) == (None, None, False)
    assert event.item["uri"] == "urn:ck:item:1024"
    assert event.item["pubstatus"] == "usable"
    assert event.item["associations"][0]["renditions"][0]["href"].startswith("https://ck.example")


def test_item_event_round_trip_keeps_chinese_as_utf8():
    event = publish_event()
    data = event.to_bytes()
    assert "渝府办发〔2019〕64号".encode() in data  # not \u-escaped
    assert ItemEvent.from_bytes(data) == event
    assert ItemEvent.from_bytes(bytearray(data)) == event


def test_new_events_get_a_fresh_uuid4_and_the_current_time():
    first = ItemEvent.from_snapshot(policy_item(), Operation.publish)
    second = ItemEvent.from_snapshot(policy_item(), Operation.publish)
    assert first.event_id != second.event_id
    assert uuid.UUID(first.event_id).version == 4
    assert abs(datetime.now(UTC) - first.occurred_at) < timedelta(minutes=1)


def test_correction_event_carries_the_correction_note():
    event = ItemEvent.from_snapshot(policy_item(), Operation.correct, reason="更正第三条时限")
    again = ItemEvent.from_bytes(event.to_bytes())
    assert again.type is Operation.correct
    assert again.reason == "更正第三条时限"
    corrections = [d for d in again.item["descriptions"] if d["role"] == "correction"]
    assert corrections[0]["value"].startswith("2019年7月3日更正")


def test_takedown_event_cancels_the_item():
    event = ItemEvent.from_snapshot(policy_item(), "takedown", reason="文件已废止")
    again = ItemEvent.from_bytes(event.to_bytes())
    assert again.type is Operation.takedown
    assert again.item["pubstatus"] == "canceled"
    assert again == event


def test_replay_event_round_trip():
    event = publish_event(only_targets=["cq-wechat-main", "cq-portal"], force=True, reason="补发")
    again = ItemEvent.from_bytes(event.to_bytes())
    assert again.only_targets == ["cq-wechat-main", "cq-portal"]
    assert again.force is True


def test_empty_only_targets_is_refused_so_it_cannot_mean_all():
    with pytest.raises(ValidationError, match="only_targets"):
        publish_event(only_targets=[])


def test_event_id_must_be_a_uuid():
    with pytest.raises(ValidationError, match="not a UUID"):
        publish_event(event_id="replay-1")
    upper = ItemEvent.from_snapshot(policy_item(), "publish", event_id=EVENT_ID.upper())
    assert upper.event_id == EVENT_ID


def test_item_event_rejects_extra_fields():
    data = edited(publish_event().to_bytes(), lambda d: d.update(priority="high"))
    with pytest.raises(EventDecodeError) as caught:
        ItemEvent.from_bytes(data)
    assert caught.value.reason == "priority: Extra inputs are not permitted"
    with pytest.raises(ValidationError):
        ItemEvent(**publish_event().model_dump(), priority="high")


def test_invalid_utf8_is_a_decode_error():
    data = publish_event().to_bytes().replace("渝".encode(), b"\xe6\xb8")
    with pytest.raises(EventDecodeError) as caught:
        ItemEvent.from_bytes(data)
    assert "not valid UTF-8 at byte" in caught.value.reason
    assert isinstance(caught.value.__cause__, UnicodeDecodeError)


@pytest.mark.parametrize("data", [b"{", b'{"type": "publish",', b"publish 1024", b"\x00"])
def test_invalid_json_is_a_decode_error(data: bytes):
    with pytest.raises(EventDecodeError) as caught:
        ItemEvent.from_bytes(data)
    assert caught.value.reason.startswith("invalid JSON: ")
    assert str(caught.value).startswith("cannot decode ItemEvent: invalid JSON")


@pytest.mark.parametrize("data", [b"", b"  \n", None, "{}"])
def test_empty_or_non_bytes_message_is_a_decode_error(data: object):
    with pytest.raises(EventDecodeError):
        ItemEvent.from_bytes(data)  # type: ignore[arg-type]


def test_schema_invalid_item_is_a_decode_error_with_the_ninjs_path():
    def break_headline(doc: dict) -> None:
        del doc["item"]["headlines"][0]["value"]

    with pytest.raises(EventDecodeError) as caught:
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), break_headline))
    assert caught.value.reason == (
        "item: ninjs 2.2 invalid at $.headlines[0]: 'value' is a required property"
    )


def test_ninjs_2_2_has_no_keywords_property():
    def add_keywords(doc: dict) -> None:
        doc["item"]["keywords"] = ["政务公开"]

    with pytest.raises(EventDecodeError, match=r"\$: Unevaluated properties .*'keywords'"):
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), add_keywords))


def test_item_must_match_the_envelope():
    def other_item(doc: dict) -> None:
        doc["item"]["uri"] = "urn:ck:item:9"

    with pytest.raises(EventDecodeError, match="'urn:ck:item:9' does not match item_id 1024"):
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), other_item))

    def other_revision(doc: dict) -> None:
        doc["revision"] = 3

    with pytest.raises(EventDecodeError, match="item.version '2' does not match revision 3"):
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), other_revision))


def test_pubstatus_must_fit_the_operation():
    def withdraw_without_takedown(doc: dict) -> None:
        doc["item"]["pubstatus"] = "withheld"

    with pytest.raises(EventDecodeError, match="'withheld' does not fit a publish event"):
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), withdraw_without_takedown))

    def takedown_still_usable(doc: dict) -> None:
        doc["type"] = "takedown"

    with pytest.raises(EventDecodeError, match="'usable' does not fit a takedown event"):
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), takedown_still_usable))


def test_naive_occurred_at_is_refused():
    def naive(doc: dict) -> None:
        doc["occurred_at"] = "2019-07-03T16:06:00"

    with pytest.raises(EventDecodeError, match="occurred_at: Input should have timezone info"):
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), naive))


def test_unknown_operation_is_refused():
    with pytest.raises(EventDecodeError, match="type: Input should be 'publish', 'correct' or"):
        ItemEvent.from_bytes(edited(publish_event().to_bytes(), lambda d: d.update(type="delete")))


# -- DeliverMessage -----------------------------------------------------------------------------


def test_deliver_message_round_trip():
    message = deliver_message()
    assert message.attempt == 0 and message.not_before is None
    assert DeliverMessage.from_bytes(message.to_bytes()) == message


def test_retry_message_round_trip_keeps_not_before():
    not_before = datetime(2019, 7, 3, 16, 10, 30, tzinfo=CST)
    message = deliver_message(attempt=3, not_before=not_before, operation=Operation.correct)
    again = DeliverMessage.from_bytes(message.to_bytes())
    assert again == message
    assert again.not_before == not_before
    assert again.channel is Channel.weibo


def test_deliver_message_rejects_extra_fields():
    data = edited(deliver_message().to_bytes(), lambda d: d.update(item={"uri": "x"}))
    with pytest.raises(EventDecodeError, match="item: Extra inputs are not permitted"):
        DeliverMessage.from_bytes(data)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"attempt": -1}, "attempt: Input should be greater than or equal to 0"),
        ({"not_before": "2019-07-03T16:10:30"}, "not_before: Input should have timezone info"),
        ({"channel": "tv"}, "channel: Input should be 'portal', 'wechat', 'weibo' or 'appfeed'"),
        ({"event_id": "abc"}, "event_id: not a UUID: 'abc'"),
    ],
)
def test_deliver_message_bad_values(change: dict, reason: str):
    data = edited(deliver_message().to_bytes(), lambda d: d.update(change))
    with pytest.raises(EventDecodeError) as caught:
        DeliverMessage.from_bytes(data)
    assert caught.value.reason == reason


def test_deliver_message_missing_fields_are_listed():
    with pytest.raises(EventDecodeError) as caught:
        DeliverMessage.from_bytes(b'{"delivery_id": 1, "extra": true}')
    reason = caught.value.reason
    assert reason.startswith("extra: Extra inputs are not permitted; item_id: Field required")


# -- DeadLetter ---------------------------------------------------------------------------------


def test_dead_letter_keeps_utf8_payload_as_text():
    original = deliver_message().to_bytes()
    failed_at = datetime(2019, 7, 3, 16, 20, tzinfo=CST)
    letter = DeadLetter.from_raw(
        "ck.deliver.weibo",
        original,
        "permanent: 微博内容违反发布规范 (20019)",
        key=b"cq-weibo-main",
        delivery_id=88,
        failed_at=failed_at,
    )
    assert letter.payload_encoding == "utf-8"
    assert letter.payload == original.decode()
    assert letter.key == "cq-weibo-main"
    again = DeadLetter.from_bytes(letter.to_bytes())
    assert again == letter
    assert again.raw_payload() == original


def test_dead_letter_keeps_non_utf8_payload_as_base64():
    garbage = b"\xff\xfe{\"item_id\": 1024}\x80"
    letter = DeadLetter.from_raw("ck.items", garbage, "cannot decode ItemEvent: not valid UTF-8")
    assert letter.payload_encoding == "base64"
    assert letter.payload == base64.b64encode(garbage).decode()
    assert letter.key is None and letter.delivery_id is None
    assert letter.failed_at.tzinfo is not None
    assert DeadLetter.from_bytes(letter.to_bytes()).raw_payload() == garbage


def test_dead_letter_rejects_extra_fields_and_unknown_encodings():
    letter = DeadLetter.from_raw("ck.items", b"{}", "bad")
    with pytest.raises(EventDecodeError, match="attempts: Extra inputs are not permitted"):
        DeadLetter.from_bytes(edited(letter.to_bytes(), lambda d: d.update(attempts=5)))
    with pytest.raises(EventDecodeError, match="payload_encoding"):
        DeadLetter.from_bytes(edited(letter.to_bytes(), lambda d: d.update(payload_encoding="hex")))


def test_decode_error_is_a_value_error():
    with pytest.raises(ValueError):
        DeadLetter.from_bytes(b"[]")
