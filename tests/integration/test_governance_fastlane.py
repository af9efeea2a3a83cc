"""The emergency fast lane on the real broker: an emergency item signed off behind a backlog of
ordinary items is delivered everywhere while that backlog is still queued. Sign-off → delivered
latencies are printed (run with -s to see them), never asserted."""

import statistics

import pytest
from kafka import KafkaConsumer
from sqlmodel import select

from pipeline.kafka.topics import deliver_topic, urgent_deliver_topic
from pipeline.store.db import session_scope
from pipeline.store.models import Review
from schemas.delivery import Channel
from tests.fixtures.kitchen import deliveries, wait_until

pytestmark = pytest.mark.kafka

BACKLOG = 24  # ordinary items (96 deliveries); below Weibo's 30 posts an hour per account


def signed_at(item_id: int):
    with session_scope() as session:
        return max(r.created_at for r in session.exec(select(Review).where(Review.item_id == item_id)))


def latencies(item_ids: list[int]) -> list[float]:
    out = []
    for item_id in item_ids:
        start = signed_at(item_id)
        out += [(d.succeeded_at - start).total_seconds() for d in deliveries(item_id) if d.succeeded_at]
    return out


def everything_on(topics: list[str], bootstrap: str) -> bytes:
    consumer = KafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None,
                             consumer_timeout_ms=3000)
    try:
        return b"\n".join(m.value for m in consumer)
    finally:
        consumer.close()


def test_an_emergency_item_is_delivered_while_the_ordinary_backlog_is_still_queued(kitchen):
    ordinary = [kitchen.sign_off(title=f"重庆市人民政府办公厅关于做好第{n}批民生实事项目的通知", kind="news",
                                 doc_no=None, written_date=None)
                for n in range(1, BACKLOG + 1)]
    kitchen.workers.start()
    wait_until(lambda: len(deliveries()) >= 4 * BACKLOG, 90, "the router to plan every ordinary delivery")

    emergency = kitchen.sign_off(title="关于主城区临时交通管制的紧急通知", kind="emergency", doc_no=None,
                                 written_date=None, summary="因突发道路塌陷，相关路段实行临时交通管制。")
    wait_until(lambda: kitchen.settled(emergency), 90, "the emergency item on every channel")
    still_queued = [d for d in deliveries() if d.item_id in ordinary and d.state != "succeeded"]
    assert still_queued, "the backlog drained before the emergency item: the test proves nothing"

    urgent_messages = everything_on([urgent_deliver_topic(c) for c in Channel], kitchen.bootstrap)
    assert f'"item_id":{emergency},'.encode() in urgent_messages
    normal_messages = everything_on([deliver_topic(c) for c in Channel], kitchen.bootstrap)
    assert f'"item_id":{emergency},'.encode() not in normal_messages

    wait_until(lambda: kitchen.settled(None, expected=4 * (BACKLOG + 1)), 240, "the backlog to drain")
    fast, slow = latencies([emergency]), latencies(ordinary)
    print(f"\nfast lane, sign-off → delivered, {len(ordinary)} ordinary items queued ahead "
          f"({len(still_queued)} of their {4 * BACKLOG} deliveries still waiting when the emergency was done):")
    print(f"  emergency: {len(fast)} deliveries, median {statistics.median(fast):.2f}s, max {max(fast):.2f}s")
    print(f"  ordinary:  {len(slow)} deliveries, median {statistics.median(slow):.2f}s, max {max(slow):.2f}s")
