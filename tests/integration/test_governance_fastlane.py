"""The emergency fast lane on the real broker: an emergency item signed off behind a backlog of
ordinary items is delivered everywhere while that backlog is still queued. Sign-off → delivered
latencies are printed (run with -s to see them), never asserted."""

import statistics

import pytest
from kafka import KafkaConsumer
from sqlmodel import select

from pipeline.config import get_settings
from pipeline.items.service import create_item
from pipeline.kafka.topics import deliver_topic, urgent_deliver_topic
from pipeline.org.users import get_user
from pipeline.review import workflow
from pipeline.store.db import session_scope
from pipeline.store.models import Review
from schemas.api import ItemCreate, ReviewCreate
from schemas.delivery import Channel
from tests.factories import policy_body
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


def reviewed_up_to_sign_off(**overrides) -> int:
    """An item through every level but the last (审发), so signing it off later is one transaction."""
    settings = get_settings()
    with session_scope() as session:
        item = create_item(session, get_user(session, "editor"), ItemCreate(**policy_body(**overrides)), settings)
        workflow.submit(session, get_user(session, "editor"), item.id, settings)
    for who in ("reviewer1", "reviewer2"):
        with session_scope() as session:
            workflow.review(session, get_user(session, who), item.id, ReviewCreate(decision="approve"), settings)
    return item.id


def timeline(ordinary: list[int], emergency: int) -> str:
    start = signed_at(emergency)
    done = sorted(d.succeeded_at for d in deliveries() if d.item_id in ordinary and d.succeeded_at)
    return (f"emergency signed off at {start:%H:%M:%S.%f}, delivered at "
            f"{[f'{d.channel} {d.succeeded_at:%H:%M:%S.%f}' for d in deliveries(emergency)]}; ordinary deliveries "
            f"finished {done[0]:%H:%M:%S} … {done[-1]:%H:%M:%S}, {sum(d <= start for d in done)} before the sign-off\n")


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
    emergency = reviewed_up_to_sign_off(title="关于主城区临时交通管制的紧急通知", kind="emergency", doc_no=None,
                                        written_date=None, summary="因突发道路塌陷，相关路段实行临时交通管制。")
    kitchen.workers.start()
    wait_until(lambda: len(deliveries()) >= 4 * BACKLOG, 90, "the router to plan every ordinary delivery")
    with session_scope() as session:  # one quick transaction, so the backlog is still there when it lands
        workflow.review(session, get_user(session, "signer"), emergency, ReviewCreate(decision="approve"),
                        get_settings())
    wait_until(lambda: kitchen.settled(emergency), 90, "the emergency item on every channel")
    still_queued = [d for d in deliveries() if d.item_id in ordinary and d.state != "succeeded"]
    assert still_queued, ("the backlog drained before the emergency item: the test proves nothing\n"
                          + timeline(ordinary, emergency) + kitchen.workers.logs()[-6000:])

    urgent_messages = everything_on([urgent_deliver_topic(c) for c in Channel], kitchen.bootstrap)
    assert f'"item_id":{emergency},'.encode() in urgent_messages
    normal_messages = everything_on([deliver_topic(c) for c in Channel], kitchen.bootstrap)
    assert f'"item_id":{emergency},'.encode() not in normal_messages

    wait_until(lambda: kitchen.settled(None, expected=4 * (BACKLOG + 1)), 240, "the backlog to drain")
    fast, slow = latencies([emergency]), latencies(ordinary)
    print(f"\nfast lane, sign-off → delivered, {len(ordinary)} ordinary items queued ahead "
          f"({len(still_queued)} of their {4 * BACKLOG} deliveries still waiting when the emergency was done):")
    print(f"  emergency: {len(fast)} deliveries, median {statistics.median(fast):.2f}s, max {max(fast):.2f}s")
    print(f"  ordinary:  {len(slow)} deliveries, median {statistics.median(slow):.2f}s, max {max(slow):.2f}s "
          "(signed off before the workers started, so their figure includes the workers' start-up)")
