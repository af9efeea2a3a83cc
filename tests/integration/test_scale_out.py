"""Scale-out, tested with real processes on the real broker and database:

- two `ck worker --role wechat` processes (one consumer group) share the partitions of
  ck.deliver.wechat; one is SIGKILLed mid-batch and the other takes its partitions over, with every
  delivery made exactly once — counted at the WeChat emulator, per account and article;
- three relays on PostgreSQL drain one outbox without sending any row twice (`FOR UPDATE SKIP
  LOCKED`) — counted on the Kafka topic itself.
"""

import json
import os
import threading
import uuid
from collections import Counter

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

from connectors.sandbox.platforms import Sandbox
from pipeline.config import get_settings
from pipeline.distribution.relay import relay_once
from pipeline.kafka.producer import make_producer
from pipeline.kafka.topics import ensure_topics
from pipeline.org.units import add_unit
from pipeline.registry.targets import add_target
from pipeline.store.db import session_scope
from pipeline.store.models import Item, OutboxEntry
from tests.fixtures.kitchen import FAST, Kitchen, Workers, deliveries, wait_until
from tests.factories import seed_newsroom
from tests.integration.test_observability import json_log_lines

pytestmark = [pytest.mark.kafka]

# Chongqing's districts: WeChat accounts whose keys (target codes) cover every partition.
DISTRICTS = ["yuzhong", "jiangbei", "shapingba", "jiulongpo", "nanan", "beibei", "yubei", "banan", "wanzhou",
             "fuling", "dadukou", "qianjiang", "changshou", "jiangjin", "hechuan", "yongchuan", "nanchuan",
             "tongliang", "dazu", "rongchang", "bishan", "liangping", "kaizhou", "qijiang", "tongnan"]
BATCH = 8


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as faust's producer) picks for a key."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def districts_covering(partitions: int) -> list[str]:
    chosen: dict[int, str] = {}
    for unit in DISTRICTS:
        chosen.setdefault(partition_of(f"{unit}-wechat", partitions), unit)
    assert len(chosen) == partitions, "add districts: some partition gets no WeChat account"
    return [chosen[p] for p in range(partitions)]


@pytest.fixture
def fleet(db, kafka_bootstrap, tmp_path, monkeypatch):
    """A kitchen whose WeChat deliveries land on every partition of ck.deliver.wechat: one
    account per district, one district per partition."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    env = {"CK_KAFKA_BOOTSTRAP": kafka_bootstrap, "CK_KAFKA_TOPIC_PREFIX": prefix,
           "CK_DATA_DIR": str(tmp_path / "var"), **FAST,
           # faust's own setting: a killed member leaves the group after this, not after 60 s
           "BROKER_SESSION_TIMEOUT": "15"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = get_settings()
    ensure_topics(kafka_bootstrap)
    units = districts_covering(settings.kafka_partitions)
    room = seed_newsroom()
    sandbox = Sandbox(units, publish_delay_ms=50).start()
    with session_scope() as session:
        for unit in units:
            if unit not in ("yuzhong", "jiangbei"):  # seeded already
                add_unit(session, unit, f"{unit}区人民政府", parent="cq")
            add_target(session, f"{unit}-wechat", "wechat", unit, f"{unit}发布", sandbox.wechat_config(unit))
    workers = Workers(dict(os.environ), tmp_path)
    kitchen = Kitchen(room, sandbox, workers, kafka_bootstrap)
    kitchen.units = units
    yield kitchen
    workers.stop_all()
    sandbox.stop()
    get_settings.cache_clear()


def finished_by(log_file) -> dict[int, str]:
    """delivery id → target, for the deliveries one worker's log says it finished."""
    return {line["delivery_id"]: line["target"] for line in json_log_lines(log_file)
            if line.get("delivery_id") and line["message"].endswith(": succeeded")}


@pytest.mark.chaos
def test_two_wechat_workers_share_the_partitions_and_one_takes_over_when_the_other_is_killed(fleet):
    fleet.sandbox.faults("wechat", latency_ms=60)  # each delivery takes a few calls: the kill lands mid-batch
    fleet.workers.start("router", "relay")
    first, second = fleet.workers.start("wechat"), fleet.workers.start("wechat")
    logs = {proc.pid: log for proc, log in fleet.workers.procs}
    targets = [f"{u}-wechat" for u in fleet.units]
    item_ids = [fleet.sign_off(title=f"关于第{n + 1}批区县政务新媒体账号年度考核结果的通报", kind="notice", doc_no=None,
                               targets=targets) for n in range(BATCH)]
    expected = len(item_ids) * len(targets)

    # both processes work: each finishes deliveries of its own partitions
    wait_until(lambda: all(len(finished_by(logs[p.pid])) >= 2 for p in (first, second)), 120,
               "both WeChat workers to deliver")
    fleet.workers.kill(first)
    killed_did = set(finished_by(logs[first.pid]).values())  # targets (so partitions) it was working
    survivor_did = set(finished_by(logs[second.pid]))
    assert sum(d.state == "succeeded" for d in deliveries()) < expected, "the kill came too late to test anything"

    wait_until(lambda: sum(d.state == "succeeded" for d in deliveries()) == expected, 240,
               "every WeChat delivery after the kill")
    after_kill = {d: t for d, t in finished_by(logs[second.pid]).items() if d not in survivor_did}
    assert killed_did & set(after_kill.values()), \
        "the surviving worker never delivered to the killed worker's targets: no partition moved"

    # exactly once, counted at the platform: one live article per (account, item)
    with session_scope() as session:
        urls = {session.get(Item, i).canonical_url for i in item_ids}
    posts = [p for p in fleet.sandbox.posts()["wechat"] if not p.get("deleted")]
    counted = Counter((p["appid"], p["content_source_url"]) for p in posts)
    appids = {fleet.sandbox.accounts.wechat(u)[0] for u in fleet.units}
    assert set(counted) == {(a, u) for a in appids for u in urls}
    assert all(n == 1 for n in counted.values()), {k: n for k, n in counted.items() if n != 1}
    assert len(fleet.sandbox.posts()["wechat"]) == expected  # nothing posted and deleted on the side


# -- several relays ------------------------------------------------------------------------------

ROWS = 1200
RELAYS = 3


def read_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every message on the topic, from the beginning to the end offsets of this moment."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        values: list[bytes] = []
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(r.value for r in records)
        return values
    finally:
        consumer.close()


def test_three_relays_on_postgresql_never_send_an_outbox_row_twice(db, kafka_bootstrap, new_kafka_topic, monkeypatch):
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time (BEGIN IMMEDIATE), so relays there are serialised "
                    "anyway; SKIP LOCKED is a PostgreSQL matter: run with CK_TEST_DATABASE_URL (tests/run.sh does)")
    monkeypatch.setenv("CK_RELAY_BATCH", "20")  # many small batches, so the relays interleave
    get_settings.cache_clear()
    settings = get_settings()
    topic = new_kafka_topic(partitions=6)
    event_ids = [str(uuid.uuid4()) for _ in range(ROWS)]
    with session_scope() as session:
        for n, event_id in enumerate(event_ids):
            session.add(OutboxEntry(event_id=event_id, topic=topic, key=str(n % 50), event_type="publish",
                                    payload=json.dumps({"event_id": event_id, "n": n})))

    sent = [0] * RELAYS
    failures: list[BaseException] = []
    start = threading.Barrier(RELAYS)

    def relay(index: int) -> None:
        producer = make_producer(kafka_bootstrap)
        try:
            start.wait()
            while batch := relay_once(producer, settings):
                sent[index] += batch
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            producer.close(5)

    threads = [threading.Thread(target=relay, args=(i,)) for i in range(RELAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not failures, failures
    assert sum(sent) == ROWS, sent
    assert sum(1 for n in sent if n) >= 2, f"only one relay got rows ({sent}): the test proved nothing"

    on_topic = Counter(json.loads(value)["event_id"] for value in read_topic(kafka_bootstrap, topic))
    assert set(on_topic) == set(event_ids)
    twice = {e: n for e, n in on_topic.items() if n > 1}
    assert not twice, f"{len(twice)} outbox rows were sent more than once"
    with session_scope() as session:
        from sqlmodel import func, select

        assert session.exec(select(func.count()).where(OutboxEntry.sent_at.is_(None))).one() == 0
    get_settings.cache_clear()
