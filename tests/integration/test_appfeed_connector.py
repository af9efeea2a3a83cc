"""The app feed connector end to end over real loopback HTTP: the feed server (`feeds_app`) and the
app-webhook receiver emulator each run in a uvicorn thread; apps are played by httpx and feedparser."""

import json
import threading
from datetime import date, datetime, timedelta, timezone

import feedparser
import httpx
import jsonschema
import pytest

from connectors.appfeed import AppFeedConnector, feeds_app, jsonfeed
from connectors.appfeed.receiver import create_app
from connectors.appfeed.webhook import WebhookEvent, delivery_id
from connectors.base import Connector, OutcomeUnknownError, PermanentError, RetryableError
from connectors.sandbox.server import ServerThread, free_port
from schemas.delivery import Channel, DeliveryState, ErrorClass, Receipt, Target
from schemas.item import ItemKind, ItemSnapshot, MediaRef, UnitRef

CST = timezone(timedelta(hours=8))
PORTAL = "https://www.example.gov.cn"
HUB = "https://hub.example.gov.cn/"
PHOTO = "5c" * 32
SECRET = "app-webhook-secret-2024"
SCHEMA = json.loads(jsonfeed.SCHEMA_PATH.read_text())

STORIES = [
    ("市政府召开第45次常务会议 研究部署春运保障工作", ItemKind.news),
    ("关于印发《某市城市更新行动实施方案》的通知", ItemKind.policy),
    ("图解：《某市城市更新行动实施方案》", ItemKind.interpretation),
    ("关于调整部分公交线路的公告", ItemKind.notice),
    ("市气象台发布寒潮蓝色预警信号", ItemKind.emergency),
]


def story(n: int, revision: int = 1, **changes) -> ItemSnapshot:
    title, kind = STORIES[n % len(STORIES)]
    published = datetime(2024, 1, 10 + n, 8, 0, tzinfo=CST)
    item_id = 2000 + n
    fields = dict(
        id=item_id,
        revision=revision,
        kind=kind,
        title=title,
        summary=f"{title}。",
        body_html=f'<p>{title}。</p><p><img src="/media/{PHOTO}" alt="现场图片"></p><p>（责任编辑：王芳）</p>',
        author="记者 李明",
        unit=UnitRef(code="bgt", name="市政府办公厅"),
        issuer="某市人民政府办公厅",
        index_no=f"11110000000013141Y/2024-{item_id:05d}",
        doc_no="某政发〔2024〕1号" if kind is ItemKind.policy else None,
        written_date=date(2024, 1, 8),
        published_at=published,
        updated_at=published + timedelta(hours=revision - 1),
        keywords=["城市更新", "春运"],
        topic_category="城乡建设、环境保护\\城市规划",
        columns=["yw"],
        canonical_url=f"{PORTAL}/sites/www/yw/202401/t202401{10 + n:02d}_{item_id}.html",
        media=[MediaRef(sha256=PHOTO, mime="image/jpeg", size=120_000, width=1280, height=853)],
    )
    fields.update(changes)
    return ItemSnapshot(**fields)


@pytest.fixture
def feed_server(tmp_path):
    with ServerThread(feeds_app(tmp_path / "feeds")) as server:
        yield server


@pytest.fixture(scope="module")
def receiver():
    with ServerThread(create_app({"gov-app": SECRET})) as server:
        yield server


@pytest.fixture
def hooks(receiver):
    httpx.post(f"{receiver.url}/_sandbox/reset").raise_for_status()
    return receiver


@pytest.fixture
def connector():
    c = AppFeedConnector(webhook_timeout=1.0)
    yield c
    c.close()


def target(feed_server, tmp_path, **config) -> Target:
    base = {"feeds_dir": str(tmp_path / "feeds"), "base_url": feed_server.url, "title": "某市政府 App 要闻", "hub_url": HUB}
    return Target(channel=Channel.appfeed, code="gov-app", name="政务 App", config=base | config)


def hooked(feed_server, tmp_path, receiver, secret: str = SECRET, **config) -> Target:
    return target(
        feed_server, tmp_path, webhook_url=f"{receiver.url}/hooks/gov-app", webhook_secret=secret, **config
    )


def get_json_feed(url: str) -> dict:
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/feed+json"
    feed = response.json()
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(feed)
    return feed


def posts(receiver) -> dict:
    return httpx.get(f"{receiver.url}/_sandbox/posts").json()


def test_connector_shape(connector):
    assert isinstance(connector, Connector)
    assert connector.channel == "appfeed"


def test_render_is_the_feed_entry_and_writes_nothing(connector, feed_server, tmp_path):
    entry = connector.render(story(0), target(feed_server, tmp_path))
    assert entry["id"] == "urn:ck:item:2000"
    assert entry["content_html"].count(f"{feed_server.url}/media/{PHOTO}") == 1
    assert not (tmp_path / "feeds").exists()


def test_publish_lists_the_item_in_all_three_formats(connector, feed_server, tmp_path):
    t = target(feed_server, tmp_path)
    receipt = connector.publish(story(1), t)
    feed_url = f"{feed_server.url}/feeds/gov-app/feed.json"
    assert receipt.state is DeliveryState.succeeded
    assert receipt.external_id == "gov-app:2001"
    assert receipt.url == feed_url

    feed = get_json_feed(receipt.url)
    assert feed["feed_url"] == feed_url
    assert feed["hubs"] == [{"type": "WebSub", "url": HUB}]
    [entry] = feed["items"]
    assert entry["title"] == "关于印发《某市城市更新行动实施方案》的通知"
    assert entry["url"] == f"{PORTAL}/sites/www/yw/202401/t20240111_2001.html"
    assert entry["_gov"]["doc_no"] == "某政发〔2024〕1号"
    assert entry["image"] == f"{feed_server.url}/media/{PHOTO}"

    for path, version in (("feed.xml", "rss20"), ("atom.xml", "atom10")):
        parsed = feedparser.parse(f"{feed_server.url}/feeds/gov-app/{path}")
        assert parsed.bozo is False, parsed.get("bozo_exception")
        assert parsed.status == 200 and parsed.version == version
        assert [e.id for e in parsed.entries] == ["urn:ck:item:2001"]
        assert parsed.entries[0].title == entry["title"]
    assert httpx.get(f"{feed_server.url}/feeds/gov-app/feed.xml").headers["content-type"].startswith("application/rss+xml")
    assert httpx.get(f"{feed_server.url}/feeds/gov-app/atom.xml").headers["content-type"].startswith("application/atom+xml")


def test_conditional_get_answers_304_until_the_feed_changes(connector, feed_server, tmp_path):
    t = target(feed_server, tmp_path)
    connector.publish(story(0), t)
    url = f"{feed_server.url}/feeds/gov-app/feed.json"
    first = httpx.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "max-age=60"
    assert first.headers["last-modified"].endswith(" GMT")
    assert first.headers["link"] == f'<{HUB}>; rel="hub", <{url}>; rel="self"'

    unchanged = httpx.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    since = httpx.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    assert httpx.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

    connector.publish(story(0), t)  # the same revision again changes nothing
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304

    connector.publish(story(1), t)
    changed = httpx.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.json()["items"]) == 2


def test_gzip_and_identity_have_their_own_strong_etags(connector, feed_server, tmp_path):
    connector.publish(story(0), target(feed_server, tmp_path))
    url = f"{feed_server.url}/feeds/gov-app/feed.json"
    zipped = httpx.get(url, headers={"Accept-Encoding": "gzip"})
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.json() == plain.json()
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize("path", ["feed.xml", "atom.xml"])
def test_feedparser_conditional_get_gets_304(connector, feed_server, tmp_path, path):
    connector.publish(story(2), target(feed_server, tmp_path))
    url = f"{feed_server.url}/feeds/gov-app/{path}"
    first = feedparser.parse(url)
    assert first.status == 200 and first.bozo is False
    assert first.etag and first.modified
    assert feedparser.parse(url, etag=first.etag).status == 304
    assert feedparser.parse(url, modified=first.modified).status == 304


def test_paging_follows_next_url_newest_first(connector, feed_server, tmp_path):
    t = target(feed_server, tmp_path, page_size=2)
    for n in range(5):
        receipt = connector.publish(story(n), t)
    assert receipt.url == f"{feed_server.url}/feeds/gov-app/feed.json"  # the newest is on page 1

    ids, url = [], f"{feed_server.url}/feeds/gov-app/feed.json"
    while url:
        page = get_json_feed(url)
        ids += [entry["id"] for entry in page["items"]]
        url = page.get("next_url")
    assert ids == [jsonfeed.entry_id(2000 + n) for n in (4, 3, 2, 1, 0)]

    oldest = connector.verify(story(0), t, None)
    assert oldest.url == f"{feed_server.url}/feeds/gov-app/feed.json?page=3"
    assert httpx.get(f"{feed_server.url}/feeds/gov-app/feed.json?page=4").status_code == 404
    assert httpx.get(f"{feed_server.url}/feeds/gov-app/feed.json?page=0").status_code == 400
    assert httpx.get(f"{feed_server.url}/feeds/gov-app/feed.json?page=二").status_code == 400
    assert httpx.get(f"{feed_server.url}/feeds/other-app/feed.json").status_code == 404

    rss_page = feedparser.parse(f"{feed_server.url}/feeds/gov-app/feed.xml?page=2")
    assert rss_page.bozo is False
    assert [e.id for e in rss_page.entries] == ["urn:ck:item:2002", "urn:ck:item:2001"]
    atom_links = {link.rel: link.href for link in feedparser.parse(f"{feed_server.url}/feeds/gov-app/atom.xml").feed.links}
    assert atom_links["next"] == f"{feed_server.url}/feeds/gov-app/atom.xml?page=2"


def test_correct_replaces_the_entry_under_the_same_id(connector, feed_server, tmp_path):
    t = target(feed_server, tmp_path)
    first = connector.publish(story(3), t)
    corrected = story(3, revision=2, title="关于调整部分公交线路的公告（更正）", correction_note="“12路”应为“21路”。")
    receipt = connector.correct(corrected, t, first)
    assert receipt.external_id == first.external_id and receipt.detail["revision"] == 2

    [entry] = get_json_feed(receipt.url)["items"]
    assert entry["id"] == "urn:ck:item:2003"
    assert entry["title"].endswith("（更正）")
    assert entry["date_published"] == "2024-01-13T08:00:00+08:00"
    assert entry["date_modified"] == "2024-01-13T09:00:00+08:00"
    assert entry["_ck"]["correction_note"] == "“12路”应为“21路”。"

    assert connector.verify(corrected, t, first) is not None
    late_retry = connector.publish(story(3), t)  # revision 1 arriving after the correction
    assert late_retry.detail["revision"] == 2
    assert get_json_feed(receipt.url)["items"][0]["title"].endswith("（更正）")


def test_takedown_leaves_every_format_and_is_announced(connector, feed_server, tmp_path):
    t = target(feed_server, tmp_path)
    published = connector.publish(story(4), t)
    connector.publish(story(0), t)
    assert connector.verify(story(4), t, None) is not None

    receipt = connector.take_down(story(4), t, published, reason="内容有误，撤稿")
    assert receipt.external_id == "gov-app:2004"
    feed = get_json_feed(receipt.url)
    assert [e["id"] for e in feed["items"]] == ["urn:ck:item:2000"]
    [removed] = feed["_ck_removed"]
    assert removed["id"] == "urn:ck:item:2004" and removed["reason"] == "内容有误，撤稿"
    assert removed["removed_at"].endswith("+08:00")
    for path in ("feed.xml", "atom.xml"):
        assert [e.id for e in feedparser.parse(f"{feed_server.url}/feeds/gov-app/{path}").entries] == ["urn:ck:item:2000"]
    assert connector.verify(story(4), t, None) is None

    again = connector.take_down(story(4), t, published)  # idempotent: the first removal stands
    assert again.detail["removed"] == removed

    with pytest.raises(PermanentError) as refused:
        connector.publish(story(4), t)  # a stale retry must not bring it back
    assert refused.value.code == "taken_down"
    assert connector.classify(refused.value) is ErrorClass.permanent

    connector.publish(story(4, revision=2), t)  # a new revision may
    feed = get_json_feed(receipt.url)
    assert "urn:ck:item:2004" in [e["id"] for e in feed["items"]]
    assert feed["_ck_removed"] == []


def test_removal_notices_expire_after_removed_days(feed_server, tmp_path):
    now = [datetime(2024, 2, 1, 12, 0, tzinfo=CST)]
    connector = AppFeedConnector(clock=lambda: now[0])
    t = target(feed_server, tmp_path, removed_days=30)
    connector.publish(story(1), t)
    connector.take_down(story(1), t, Receipt())
    assert len(get_json_feed(f"{feed_server.url}/feeds/gov-app/feed.json")["_ck_removed"]) == 1
    now[0] += timedelta(days=31)
    connector.publish(story(2), t)
    assert get_json_feed(f"{feed_server.url}/feeds/gov-app/feed.json")["_ck_removed"] == []


def test_webhook_pushes_are_signed_and_verified_by_the_app(connector, feed_server, tmp_path, hooks):
    t = hooked(feed_server, tmp_path, hooks)
    published = connector.publish(story(1), t)
    connector.correct(story(1, revision=2), t, published)
    connector.take_down(story(1, revision=2), t, published)

    seen = posts(hooks)
    assert seen["rejected"] == 0 and seen["duplicates"] == 0
    assert [(p["event"], p["item_id"], p["app"]) for p in seen["posts"]] == [
        ("publish", "urn:ck:item:2001", "gov-app"),
        ("correct", "urn:ck:item:2001", "gov-app"),
        ("takedown", "urn:ck:item:2001", "gov-app"),
    ]
    assert seen["posts"][0]["delivery"] == delivery_id("gov-app", 2001, 1, WebhookEvent.publish)
    assert seen["posts"][0]["body"]["item"]["title"] == STORIES[1][0]
    assert seen["posts"][1]["body"]["item"]["_ck"]["revision"] == 2
    assert seen["posts"][2]["body"]["item"]["reason"] == "withdrawn"


def test_tampered_secret_is_refused_with_401_as_a_permanent_error(connector, feed_server, tmp_path, hooks):
    t = hooked(feed_server, tmp_path, hooks, secret="not-the-registered-secret")
    with pytest.raises(PermanentError) as refused:
        connector.publish(story(0), t)
    assert refused.value.code == 401
    assert connector.classify(refused.value) is ErrorClass.permanent
    assert posts(hooks) == {"posts": [], "duplicates": 0, "rejected": 1}
    assert connector.verify(story(0), t, None) is None  # listed, but the app never took it


def test_server_errors_are_retryable_and_the_retry_delivers_once(connector, feed_server, tmp_path, hooks):
    t = hooked(feed_server, tmp_path, hooks)
    httpx.post(f"{hooks.url}/_sandbox/faults", json={"http_500_rate": 1.0, "next_n": 1}).raise_for_status()
    with pytest.raises(RetryableError) as failed:
        connector.publish(story(2), t)
    assert failed.value.code == 500
    assert connector.classify(failed.value) is ErrorClass.retryable
    assert connector.verify(story(2), t, None) is None

    assert connector.publish(story(2), t).state is DeliveryState.succeeded
    seen = posts(hooks)
    assert [(p["event"], p["received"]) for p in seen["posts"]] == [("publish", 1)]
    assert connector.verify(story(2), t, None) is not None


def test_busy_app_is_retryable_with_retry_after(connector, feed_server, tmp_path, hooks):
    t = hooked(feed_server, tmp_path, hooks)
    httpx.post(f"{hooks.url}/_sandbox/faults", json={"error_rate": 1.0, "seed": 7}).raise_for_status()
    with pytest.raises(RetryableError) as busy:
        connector.publish(story(3), t)
    assert busy.value.code == 503 and busy.value.retry_after == 1.0


def test_timeout_after_effect_is_unknown_and_the_retry_is_a_counted_duplicate(connector, feed_server, tmp_path, hooks):
    t = hooked(feed_server, tmp_path, hooks)
    httpx.post(f"{hooks.url}/_sandbox/faults", json={"timeout_after_effect_rate": 1.0, "next_n": 1}).raise_for_status()
    with pytest.raises(OutcomeUnknownError) as unknown:
        connector.publish(story(4), t)
    assert connector.classify(unknown.value) is ErrorClass.unknown
    assert connector.verify(story(4), t, None) is None  # no acknowledgement recorded: redo the push

    connector.publish(story(4), t)
    seen = posts(hooks)
    assert seen["duplicates"] == 1
    [post] = seen["posts"]
    assert post["received"] == 2 and post["delivery"] == delivery_id("gov-app", 2004, 1, WebhookEvent.publish)
    assert connector.verify(story(4), t, None) is not None

    connector.publish(story(4), t)  # acknowledged already: not pushed again
    assert posts(hooks)["duplicates"] == 1


def test_unreachable_app_is_retryable(connector, feed_server, tmp_path):
    t = target(
        feed_server, tmp_path, webhook_url=f"http://127.0.0.1:{free_port()}/hooks/gov-app", webhook_secret=SECRET
    )
    with pytest.raises(RetryableError) as refused:
        connector.publish(story(0), t)
    assert refused.value.code == "connect"


@pytest.mark.parametrize(
    "config",
    [
        {"title": "缺少 base_url"},
        {"base_url": "https://ck.example.gov.cn", "title": "只有地址没有密钥", "webhook_url": "https://app.example.com/hook"},
        {"base_url": "https://ck.example.gov.cn", "title": "每页零条", "page_size": 0},
    ],
)
def test_bad_target_config_is_permanent(connector, tmp_path, config):
    t = Target(channel=Channel.appfeed, code="gov-app", config={"feeds_dir": str(tmp_path)} | config)
    with pytest.raises(PermanentError) as bad:
        connector.publish(story(0), t)
    assert bad.value.code == "config"


def test_unsafe_feed_code_is_permanent(connector, feed_server, tmp_path):
    t = target(feed_server, tmp_path).model_copy(update={"code": "../../etc"})
    with pytest.raises(PermanentError):
        connector.publish(story(0), t)


def test_concurrent_publishers_lose_no_entry(feed_server, tmp_path):
    t = target(feed_server, tmp_path)
    errors: list[Exception] = []

    def publish(n: int) -> None:
        c = AppFeedConnector()
        try:
            c.publish(story(n, id=3000 + n, canonical_url=f"{PORTAL}/sites/www/yw/c_{n}.html"), t)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            c.close()

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = {entry["id"] for entry in get_json_feed(f"{feed_server.url}/feeds/gov-app/feed.json")["items"]}
    assert ids == {jsonfeed.entry_id(3000 + n) for n in range(12)}


def test_receiver_control_endpoints(receiver):
    bad = httpx.post(f"{receiver.url}/_sandbox/faults", json={"error_rate": 2})
    assert bad.status_code == 400
    unknown_key = httpx.post(f"{receiver.url}/_sandbox/faults", json={"drop_rate": 0.5})
    assert unknown_key.status_code == 400
    ok = httpx.post(f"{receiver.url}/_sandbox/faults", json={"latency_ms": 5, "seed": 1})
    assert ok.json()["latency_ms"] == 5
    assert httpx.get(f"{receiver.url}/_sandbox/faults").json() == ok.json()
    assert httpx.post(f"{receiver.url}/hooks/unknown-app", content=b"{}").status_code == 404
    assert httpx.post(f"{receiver.url}/_sandbox/reset").json() == {"ok": True}
    assert posts(receiver) == {"posts": [], "duplicates": 0, "rejected": 0}
