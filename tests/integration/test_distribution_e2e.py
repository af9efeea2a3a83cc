"""Sign-off → outbox → relay → Kafka → router → channel agents → the emulated platforms,
with real `ck worker` processes on the real broker; counted at the receiving end."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.config import get_settings
from pipeline.store.db import session_scope
from pipeline.store.models import DeliveryLog, Item
from tests.fixtures.kitchen import deliveries, wait_until

pytestmark = pytest.mark.kafka


def live(posts: list[dict], key: str = "deleted") -> list[dict]:
    return [p for p in posts if not p.get(key)]


def portal_page(url: str) -> Path:
    return get_settings().sites_dir / url.split("/sites/", 1)[1]


def test_one_signed_off_item_reaches_all_four_channels_exactly_once(kitchen):
    item_id = kitchen.sign_off()
    kitchen.workers.start()
    rows = wait_until(lambda: kitchen.settled(item_id), 60, "four deliveries to succeed")
    assert sorted((d.channel, d.target_code, d.operation) for d in rows) == [
        ("appfeed", "cq-app", "publish"), ("portal", "cq-portal", "publish"),
        ("wechat", "cq-wechat", "publish"), ("weibo", "cq-weibo", "publish")]
    by_channel = {d.channel: d for d in rows}
    with session_scope() as session:
        item = session.get(Item, item_id)
        assert item.status == "published" and item.published_revision == 1
        canonical = item.canonical_url
        history = {d.id: [(e.from_state, e.to_state) for e in session.query(DeliveryLog)
                          .filter(DeliveryLog.delivery_id == d.id).order_by(DeliveryLog.id)] for d in rows}
    # one source: the portal page is the canonical URL, and the other channels link to it
    assert by_channel["portal"].url == canonical and portal_page(canonical).is_file()
    assert "渝府办发〔2019〕64号" in portal_page(canonical).read_text(encoding="utf-8")
    posts = kitchen.sandbox.posts()
    wechat, weibo = live(posts["wechat"]), live(posts["weibo"])
    assert len(wechat) == 1 and wechat[0]["content_source_url"] == canonical
    assert by_channel["wechat"].url and by_channel["wechat"].external_id == wechat[0]["article_id"]
    assert len(weibo) == 1 and canonical in weibo[0]["text"] and weibo[0]["idstr"] == by_channel["weibo"].external_id
    assert len(posts["webhooks"]["posts"]) == 1 and posts["webhooks"]["duplicates"] == 0
    feed = json.loads((get_settings().data_dir / "feeds" / "cq-app" / "state.json").read_text(encoding="utf-8"))
    assert str(item_id) in json.dumps(feed)
    # the ledger shows every state change
    for d in rows:
        assert history[d.id][0] == (None, "pending") and history[d.id][-1][1] == "succeeded"
        assert ("pending", "in_flight") in history[d.id]


def revise_and_sign_off(kitchen, item_id: int, **changes) -> None:
    from pipeline.items.service import revise_item
    from pipeline.org.users import get_user
    from pipeline.review import workflow
    from schemas.api import ItemUpdate, ReviewCreate

    settings = get_settings()
    with session_scope() as session:
        revise_item(session, get_user(session, "editor"), item_id, ItemUpdate(**changes), settings)
        workflow.submit(session, get_user(session, "editor"), item_id, settings)
    for who in ("reviewer1", "reviewer2", "signer"):
        with session_scope() as session:
            workflow.review(session, get_user(session, who), item_id, ReviewCreate(decision="approve"), settings)


def test_a_correction_and_a_takedown_reach_every_prior_recipient(kitchen):
    item_id = kitchen.sign_off()
    kitchen.workers.start()
    first = wait_until(lambda: kitchen.settled(item_id), 60, "the first publication")
    canonical = next(d.url for d in first if d.channel == "portal")
    client = TestClient(__import__("pipeline.api.app", fromlist=["create_app"]).create_app(get_settings()))
    feeds = ("feed.json", "feed.xml", "atom.xml")
    for name in feeds:  # all three feed formats, from the same source revision as the page
        r = client.get(f"/feeds/cq-app/{name}")
        assert r.status_code == 200 and canonical in r.text, name
    assert client.get(canonical.split("127.0.0.1:8000", 1)[1]).status_code == 200

    revise_and_sign_off(kitchen, item_id, doc_no="渝府办发〔2019〕65号",
                        correction_note="原文文号有误，已更正为渝府办发〔2019〕65号。")
    rows = wait_until(lambda: kitchen.settled(item_id, expected=8), 60, "four corrections")
    corrections = [d for d in rows if d.operation == "correct"]
    assert sorted(d.target_code for d in corrections) == ["cq-app", "cq-portal", "cq-wechat", "cq-weibo"]
    assert all(d.revision == 2 for d in corrections)
    page = portal_page(canonical).read_text(encoding="utf-8")
    assert "65号" in page and "更正" in page
    posts = kitchen.sandbox.posts()
    # WeChat cannot edit a published article: the old one is deleted and the correction published
    old_wechat = next(d for d in first if d.channel == "wechat").external_id
    new_wechat = next(d for d in corrections if d.channel == "wechat").external_id
    assert [p["article_id"] for p in live(posts["wechat"])] == [new_wechat] and new_wechat != old_wechat
    assert len(live(posts["weibo"])) == 1 and "更正" in live(posts["weibo"])[0]["text"]

    r = client.post(f"/api/v1/items/{item_id}/takedown", json={"reason": "文件已废止"}, headers=kitchen.room.auth("editor"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/items/{item_id}/takedown", json={"reason": "文件已废止"}, headers=kitchen.room.auth("signer"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    rows = wait_until(lambda: kitchen.settled(item_id, expected=12), 60, "four takedowns")
    assert sorted(d.target_code for d in rows if d.operation == "takedown") == [
        "cq-app", "cq-portal", "cq-wechat", "cq-weibo"]
    posts = kitchen.sandbox.posts()
    assert live(posts["wechat"]) == [] and live(posts["weibo"]) == []
    assert not portal_page(canonical).exists()
    assert client.get(canonical.split("127.0.0.1:8000", 1)[1]).status_code == 404
    for name in feeds:
        assert canonical not in client.get(f"/feeds/cq-app/{name}").text, name
    feed = json.loads((get_settings().data_dir / "feeds" / "cq-app" / "state.json").read_text(encoding="utf-8"))
    assert not feed.get("entries") or all(e.get("item_id") != item_id for e in feed["entries"])


def test_a_failed_delivery_is_replayed_from_the_api_and_from_the_cli(kitchen):
    import subprocess
    import sys

    kitchen.sandbox.faults("wechat", error_rate=1.0, codes=[48001], only_paths=["/cgi-bin/draft/add"])
    item_id = kitchen.sign_off()
    kitchen.workers.start()
    wait_until(lambda: kitchen.settled(item_id, states=("succeeded", "failed")), 60, "deliveries to settle")
    failed = [d for d in deliveries(item_id) if d.state == "failed"]
    assert [(d.channel, d.error_class) for d in failed] == [("wechat", "permanent")]
    assert "48001" in failed[0].last_error

    kitchen.sandbox.faults("wechat")  # the account is verified now: no more faults
    client = TestClient(__import__("pipeline.api.app", fromlist=["create_app"]).create_app(get_settings()))
    r = client.post("/api/v1/distributions/replay", json={"channel": "wechat"}, headers=kitchen.room.auth("editor"))
    assert r.status_code == 403
    r = client.post("/api/v1/distributions/replay", json={"channel": "wechat", "states": ["failed"]},
                    headers=kitchen.room.auth("admin"))
    assert r.status_code == 200 and r.json()["deliveries"] == [failed[0].id]
    wait_until(lambda: kitchen.settled(item_id), 60, "the replayed delivery to succeed")
    assert len(live(kitchen.sandbox.posts()["wechat"])) == 1
    history = client.get(f"/api/v1/distributions/{failed[0].id}/history", headers=kitchen.room.auth("admin")).json()
    states = [h["to_state"] for h in history]
    assert states[-1] == "succeeded" and states[states.index("failed") + 1] == "pending"
    assert history[states.index("failed") + 1]["detail"]["by"] == "admin"

    kitchen.sandbox.faults("weibo", error_rate=1.0, codes=[21327], only_paths=["statuses/share.json"])
    second = kitchen.sign_off(title="重庆市人民政府办公厅关于做好2026年冬季供暖保障工作的通知")
    wait_until(lambda: kitchen.settled(second, states=("succeeded", "failed")), 60, "the second item to settle")
    weibo = next(d for d in deliveries(second) if d.channel == "weibo")
    assert weibo.state == "failed" and "reconnect" in weibo.last_error.lower()
    kitchen.sandbox.faults("weibo")
    result = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "replay", "--item", str(second),
                             "--wait", "60"], env=kitchen.workers.env | {"CK_TOKEN": kitchen.room.tokens["admin"]},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "replaying 1 deliveries" in result.stdout and "1 succeeded" in result.stdout
    with session_scope() as session:
        second_url = session.get(Item, second).canonical_url
    assert len([p for p in live(kitchen.sandbox.posts()["weibo"]) if second_url in p["text"]]) == 1
    assert len(live(kitchen.sandbox.posts()["weibo"])) == 2


def test_a_scheduled_item_is_held_until_its_publish_time(kitchen):
    from datetime import timedelta

    from pipeline.clock import now
    from pipeline.distribution.relay import relay_once
    from pipeline.kafka.producer import make_producer

    item_id = kitchen.sign_off(publish_at=(now() + timedelta(seconds=3)).isoformat())
    producer = make_producer(kitchen.bootstrap)
    try:
        assert relay_once(producer, get_settings()) == 0
        with session_scope() as session:
            assert session.get(Item, item_id).status == "approved"
        wait_until(lambda: relay_once(producer, get_settings()) == 1, 10, "the publish time")
    finally:
        producer.close(5)
    with session_scope() as session:
        assert session.get(Item, item_id).status == "published"


def test_events_on_ck_items_are_valid_ninjs_and_workers_stop_cleanly_on_sigterm(kitchen):
    from kafka import KafkaConsumer

    from pipeline.kafka.topics import items_topic
    from schemas.events import ItemEvent
    from schemas.ninjs import validate_ninjs

    item_id = kitchen.sign_off(cover=None)
    worker = kitchen.workers.start()
    wait_until(lambda: kitchen.settled(item_id), 60, "the item to be delivered")
    assert kitchen.workers.stop(worker) == 0, kitchen.workers.logs()
    consumer = KafkaConsumer(items_topic(), bootstrap_servers=kitchen.bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000, group_id=None)
    events = [m for m in consumer]
    consumer.close()
    assert len(events) == 1 and events[0].key == str(item_id).encode()
    event = ItemEvent.from_bytes(events[0].value)
    validate_ninjs(event.item)
    assert event.type == "publish" and event.item["altids"] and event.item["headlines"][0]["value"]


def test_roles_split_over_processes_relay_alone_included(kitchen):
    """`ck worker --role relay` runs the relay by itself (as `ck relay`); with a router and the
    channel roles in processes of their own, an item still reaches all four channels once."""
    relay = kitchen.workers.start("relay", wait_ready=False)
    log = kitchen.workers.procs[-1][1]
    wait_until(lambda: relay.poll() is not None or b"relay on" in log.read_bytes(), 60, "the relay to start")
    assert relay.poll() is None, log.read_text(errors="replace")[-3000:]
    kitchen.workers.start("router")
    kitchen.workers.start("portal", "wechat", "weibo", "appfeed")
    item_id = kitchen.sign_off()
    wait_until(lambda: kitchen.settled(item_id), 60, "four deliveries to succeed")
    posts = kitchen.sandbox.posts()
    assert len(live(posts["wechat"])) == 1 and len(live(posts["weibo"])) == 1
    assert kitchen.workers.stop(relay) == 0  # SIGTERM: a clean stop
