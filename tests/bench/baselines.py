"""The two baselines measured in the same run as the kitchen:

(a) a bare Kafka relay: consume the kitchen's own deliver messages and produce them to another
    topic with no work at all (aiokafka, idempotent producer, acks=all) — the ceiling of this
    machine and broker for moving those messages;
(b) a sequential "publish button": one item at a time, the four connectors called one after another
    (portal, WeChat, Weibo, app feed), the way a traditional CMS publishes.
"""

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer
from sqlmodel import select

from pipeline.config import get_settings
from pipeline.distribution.channels import build_connectors, runtime_target
from pipeline.kafka.producer import make_producer
from pipeline.kafka.topics import deliver_topic, ensure_topics
from pipeline.store.db import session_scope
from pipeline.store.models import ChannelTarget, Item, ItemRevision
from schemas.delivery import Channel
from schemas.item import ItemSnapshot

ORDER = (Channel.portal, Channel.wechat, Channel.weibo, Channel.appfeed)


def read_deliver_messages(bootstrap: str, limit: int) -> list[tuple[bytes | None, bytes]]:
    """The (key, value) of every deliver message the kitchen's router wrote in this scenario."""
    consumer = KafkaConsumer(*(deliver_topic(c) for c in Channel), bootstrap_servers=bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000, group_id=None,
                             max_poll_records=2000)
    try:
        messages = []
        for m in consumer:
            messages.append((m.key, m.value))
            if len(messages) >= limit:
                break
        return messages
    finally:
        consumer.close()


def bare_relay(bootstrap: str, messages: list[tuple[bytes | None, bytes]], partitions: int) -> dict:
    """Preload `messages` into a topic of its own (not timed), then time consume → produce of all of them."""
    source, sink = (f"bench.bare.{uuid.uuid4().hex[:8]}.{name}" for name in ("in", "out"))
    ensure_topics(bootstrap, partitions, topics=[source, sink])
    producer = make_producer(bootstrap, linger_ms=20, batch_size=256 * 1024)
    for key, value in messages:
        producer.send(source, key=key, value=value)
    producer.flush(60)
    producer.close(5)
    elapsed = asyncio.run(_relay(bootstrap, source, sink, len(messages)))
    return {"messages": len(messages), "seconds": round(elapsed, 2),
            "messages_per_s": round(len(messages) / elapsed, 1), "client": "aiokafka"}


async def _relay(bootstrap: str, source: str, sink: str, expected: int) -> float:
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        relayed, started = 0, None
        while relayed < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
            if started is None and batches:
                started = time.perf_counter()
            futures = [await producer.send(sink, key=m.key, value=m.value)
                       for records in batches.values() for m in records]
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
            relayed += len(futures)
        return time.perf_counter() - (started or time.perf_counter())
    finally:
        await producer.stop()
        await consumer.stop()


def signed_off_snapshots(limit: int) -> list[tuple[int, str, ItemSnapshot]]:
    with session_scope() as session:
        rows = session.exec(select(Item, ItemRevision).join(ItemRevision, (ItemRevision.item_id == Item.id)
                                                            & (ItemRevision.number == Item.approved_revision))
                            .where(Item.approved_revision.is_not(None)).order_by(Item.id).limit(limit))
        from pipeline.store.models import Unit

        units = {u.id: u.code for u in session.exec(select(Unit))}
        return [(item.id, units[item.unit_id], ItemSnapshot.model_validate(rev.snapshot)) for item, rev in rows]


def sequential_publish(limit: int) -> dict:
    """Publish signed-off items one at a time, calling each platform in turn, in this process."""
    settings = get_settings()
    connectors = build_connectors(settings)
    with session_scope() as session:
        targets = {(t.code.rsplit("-", 1)[0], t.channel): t for t in session.exec(select(ChannelTarget))}
    work = signed_off_snapshots(limit)
    started, cpu = time.perf_counter(), time.process_time()
    for _item_id, unit, snapshot in work:
        for channel in ORDER:
            row = targets[(unit, channel.value)]
            connectors[channel].publish(snapshot, runtime_target(row, snapshot, settings))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"items": len(work), "seconds": round(elapsed, 2), "items_per_s": round(len(work) / elapsed, 2),
            "deliveries_per_s": round(4 * len(work) / elapsed, 2),
            "cpu_ms_per_delivery": round(1000 * cpu / (4 * len(work)), 2)}  # this process: the connectors
