"""The real broker: topics, both Python clients (kafka-python for the relay, aiokafka under faust)
and a broker restart. No mocks: each test fails if the broker or a client misbehaves."""

import asyncio
import json
import time
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import InvalidReplicationFactorError

from pipeline.config import get_settings
from pipeline.kafka.producer import make_producer
from pipeline.kafka.topics import all_topics, ensure_topics

pytestmark = pytest.mark.kafka

Record = tuple[bytes, bytes]  # (key, value)


def _records(prefix: str, count: int, keys: int = 7) -> list[Record]:
    return [(f"{prefix}-key-{i % keys}".encode(), json.dumps({"seq": i}).encode()) for i in range(count)]


def _produce(bootstrap: str, topic: str, records: list[Record], producer=None) -> None:
    """Send with the project's producer and wait for every acknowledgement."""
    own = producer is None
    producer = producer or make_producer(bootstrap)
    try:
        futures = [producer.send(topic, key=key, value=value) for key, value in records]
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=60)
    finally:
        if own:
            producer.close()


def _consume(bootstrap: str, topic: str, group: str, expected: int, timeout: float = 30) -> list[Record]:
    """Read with a consumer group until `expected` records came (then one more poll to catch extras)
    and commit what was read."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    got: list[Record] = []
    try:
        deadline = time.monotonic() + timeout
        while len(got) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                got.extend((r.key, r.value) for r in batch)
        for batch in consumer.poll(timeout_ms=1000).values():
            got.extend((r.key, r.value) for r in batch)
        consumer.commit()
    finally:
        consumer.close()
    return got


def _assert_same_records(got: list[Record], sent: list[Record]) -> None:
    assert Counter(got) == Counter(sent)
    for key in {k for k, _ in sent}:  # one key lives on one partition: its order is kept
        assert [v for k, v in got if k == key] == [v for k, v in sent if k == key]


def test_topics_exist_with_the_configured_partitions(kafka_bootstrap):
    names = ensure_topics(kafka_bootstrap)  # a second time: existing topics are fine
    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        described = {t["name"]: t for t in admin.describe_topics(names)}
    assert sorted(described) == sorted(all_topics())
    partitions = get_settings().kafka_partitions  # 6 unless CK_KAFKA_PARTITIONS says otherwise
    for name, topic in described.items():
        assert topic["error_code"] == 0, name
        assert len(topic["partitions"]) == partitions, name
        assert all(p["leader_id"] >= 0 and len(p["replica_nodes"]) == 1 for p in topic["partitions"])


def test_ensure_topics_reports_errors_other_than_already_exists(kafka_bootstrap):
    with pytest.raises(InvalidReplicationFactorError):
        ensure_topics(kafka_bootstrap, replication=99, topics=["ck.test.impossible-replication"])


def test_kafka_python_idempotent_round_trip(kafka_bootstrap, new_kafka_topic):
    topic = new_kafka_topic()
    sent = _records("kp", 300)
    _produce(kafka_bootstrap, topic, sent)

    _assert_same_records(_consume(kafka_bootstrap, topic, "ck-test-kp", len(sent)), sent)

    # The broker tracked one producer id per partition with gap-free sequence numbers: the
    # writes were idempotent (a plain producer has no producer id and shows up here not at all).
    partitions = [TopicPartition(topic, p) for p in range(6)]
    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        states = admin.describe_producers(partitions)
        offsets = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
    producer_ids = set()
    for tp in partitions:
        active = states[tp].active_producers
        count = offsets[tp].offset
        if count == 0:
            continue
        assert len(active) == 1, tp
        assert active[0].last_sequence == count - 1, tp
        producer_ids.add(active[0].producer_id)
    assert len(producer_ids) == 1 and producer_ids.pop() >= 0


def test_aiokafka_round_trip_and_reads_what_kafka_python_wrote(kafka_bootstrap, new_kafka_topic):
    """aiokafka is faust's driver: it must read the relay's (kafka-python) records and its own."""
    topic = new_kafka_topic()
    from_relay = _records("relay", 150)
    from_aiokafka = _records("aio", 150, keys=5)
    _produce(kafka_bootstrap, topic, from_relay)

    async def round_trip() -> list[Record]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            for key, value in from_aiokafka:
                await producer.send(topic, key=key, value=value)
            await producer.flush()
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka_bootstrap, group_id="ck-test-aio",
            auto_offset_reset="earliest", enable_auto_commit=False,
        )
        await consumer.start()
        got: list[Record] = []
        try:
            deadline = time.monotonic() + 30
            while len(got) < len(from_relay) + len(from_aiokafka) and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    got.extend((r.key, r.value) for r in batch)
            await consumer.commit()
        finally:
            await consumer.stop()
        return got

    got = asyncio.run(asyncio.wait_for(round_trip(), timeout=90))
    _assert_same_records(got, from_relay + from_aiokafka)


@pytest.mark.chaos
def test_restart_keeps_acknowledged_records_and_committed_offsets(kafka_broker, kafka_bootstrap, new_kafka_topic):
    if kafka_broker is None:
        pytest.skip("CK_KAFKA_BOOTSTRAP points at an outside broker, which this test cannot restart")
    topic = new_kafka_topic()
    before = _records("before", 120)
    producer = make_producer(kafka_bootstrap)
    try:
        _produce(kafka_bootstrap, topic, before, producer)
        _assert_same_records(_consume(kafka_bootstrap, topic, "ck-test-restart", len(before)), before)

        kafka_broker.restart()
        assert kafka_broker.bootstrap == kafka_bootstrap

        # The same producer carries on after the restart; the group resumes after its commit.
        after = _records("after", 60)
        _produce(kafka_bootstrap, topic, after, producer)
    finally:
        producer.close()
    _assert_same_records(_consume(kafka_bootstrap, topic, "ck-test-restart", len(after)), after)
    _assert_same_records(_consume(kafka_bootstrap, topic, "ck-test-fresh", 180), before + after)


@pytest.mark.chaos
def test_killed_broker_comes_back_with_acknowledged_records(kafka_broker, kafka_bootstrap, new_kafka_topic):
    if kafka_broker is None:
        pytest.skip("CK_KAFKA_BOOTSTRAP points at an outside broker, which this test cannot kill")
    topic = new_kafka_topic()
    sent = _records("kill", 100)
    _produce(kafka_bootstrap, topic, sent)

    kafka_broker.kill()
    assert not kafka_broker.is_running()
    kafka_broker.start()

    _assert_same_records(_consume(kafka_bootstrap, topic, "ck-test-kill", len(sent)), sent)
