"""More reliability, tested on the real broker with `ck worker` processes and the emulators:

- the relay killed between the sign-off's commit and its send, and killed after its send but
  before it marked the rows sent: every event still arrives, and the event Kafka holds twice is
  still delivered once;
- deliveries that exhaust their attempts sit in dead letter, and one replay completes them.

Counted at the emulated platforms, not in our own ledger."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from sqlmodel import select

from pipeline.config import get_settings
from pipeline.distribution.replay import ReplayFilter, replay
from pipeline.kafka.topics import dead_letter_topic, items_topic
from pipeline.org.users import get_user
from pipeline.store.db import session_scope
from pipeline.store.models import OutboxEntry
from tests.fixtures.kitchen import deliveries, wait_until
from tests.integration.test_distribution_faults import all_succeeded, assert_each_delivered_once, sign_off_batch

pytestmark = [pytest.mark.kafka, pytest.mark.chaos]
ROOT = Path(__file__).resolve().parents[2]
CHANNEL_ROLES = ("router", "portal", "wechat", "weibo", "appfeed")


def read_topic(bootstrap: str, topic: str) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000, group_id=None)
    try:
        return list(consumer)
    finally:
        consumer.close()


def unsent() -> list[OutboxEntry]:
    with session_scope() as session:
        return list(session.exec(select(OutboxEntry).where(OutboxEntry.sent_at.is_(None))))


def crash_relay(kitchen, moment: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "tests.integration.crashing_relay", moment], env=kitchen.workers.env,
                          cwd=ROOT, capture_output=True, timeout=120)
    assert proc.returncode == -9, f"the relay was meant to die by SIGKILL: {proc.returncode}\n{proc.stderr.decode()}"
    return proc


def start_relay(kitchen) -> subprocess.Popen:
    """`ck relay`, stopped with the kitchen's workers at the end of the test."""
    log = kitchen.workers.log_dir / "relay.log"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", "relay"], env=kitchen.workers.env, cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    kitchen.workers.procs.append((proc, log))
    return proc


def test_a_relay_killed_before_and_after_its_send_loses_nothing_and_doubles_nothing(kitchen):
    kitchen.workers.start(*CHANNEL_ROLES)  # everything but the relay
    first = sign_off_batch(kitchen, 4)

    # 1. killed between the sign-off's commit and the send: nothing left, the rows stay unsent
    crash_relay(kitchen, "before-send")
    assert len(unsent()) == 4
    assert read_topic(kitchen.bootstrap, items_topic()) == []

    # 2. killed after Kafka acknowledged the batch, before `sent_at` was committed
    proc = crash_relay(kitchen, "after-send")
    assert b"flushed" in proc.stdout
    assert len(unsent()) == 4, "the rows were marked sent although the relay died first"
    assert len(read_topic(kitchen.bootstrap, items_topic())) == 4

    # 3. a relay that lives sends the same four events again, plus the items signed off meanwhile
    more = sign_off_batch(kitchen, 2)
    start_relay(kitchen)
    item_ids = first + more
    wait_until(lambda: all_succeeded(item_ids), 120, "every delivery after the relay crashes")
    assert unsent() == []
    events = [json.loads(m.value) for m in read_topic(kitchen.bootstrap, items_topic())]
    sent_twice = {e for e, n in Counter(e["event_id"] for e in events).items() if n > 1}
    assert len(events) == 10 and len(sent_twice) == 4, "Kafka should hold the first four events twice"
    assert_each_delivered_once(kitchen, item_ids)
    assert len(deliveries()) == 4 * len(item_ids)


def test_exhausted_deliveries_sit_in_dead_letter_and_one_replay_completes_them(kitchen):
    kitchen.workers.env["CK_MAX_ATTEMPTS"] = "2"
    kitchen.sandbox.faults("weibo", error_rate=1.0, codes=[10001])  # system error: retryable, never succeeds
    kitchen.sandbox.faults("webhooks", http_500_rate=1.0)
    kitchen.workers.start()
    item_ids = sign_off_batch(kitchen, 3)

    def exhausted():
        rows = [d for d in deliveries() if d.item_id in item_ids]
        dead = [d for d in rows if d.state == "dead"]
        settled = len(rows) == 12 and all(d.state in ("succeeded", "dead") for d in rows)
        return dead if settled and len(dead) == 6 else None

    dead = wait_until(exhausted, 120, "weibo and appfeed deliveries to exhaust their attempts")
    assert {d.channel for d in dead} == {"weibo", "appfeed"}
    assert all(d.attempts == 2 for d in dead)
    letters = [json.loads(m.value) for m in read_topic(kitchen.bootstrap, dead_letter_topic())]
    assert sorted(letter["delivery_id"] for letter in letters) == sorted(d.id for d in dead)
    posts = kitchen.sandbox.posts()
    assert posts["weibo"] == [] and posts["webhooks"]["posts"] == []

    kitchen.sandbox.faults("weibo")  # the platforms are healthy again
    kitchen.sandbox.faults("webhooks")
    with session_scope() as session:
        summary = replay(session, get_user(session, "admin"), ReplayFilter(states=["dead"]), get_settings())
    assert sorted(summary.deliveries) == sorted(d.id for d in dead) and summary.events == 3

    wait_until(lambda: all_succeeded(item_ids), 120, "every dead delivery after one replay")
    assert_each_delivered_once(kitchen, item_ids)
    with session_scope() as session:  # nothing is left to replay
        assert replay(session, get_user(session, "admin"), ReplayFilter(states=["dead", "failed"]),
                      get_settings()).deliveries == []
