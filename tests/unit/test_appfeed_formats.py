"""App feed formats and feed state: JSON Feed 1.1 against our schema, RSS/Atom through feedparser,
the on-disk store, and webhook signing. No network, no mocks."""

import json
from datetime import UTC, date, datetime, timedelta, timezone

import feedparser
import jsonschema
import pytest
from lxml import etree

from connectors.appfeed import jsonfeed, rss_atom, webhook
from connectors.appfeed.store import FeedEntry, FeedMeta, FeedNotFound, FeedState, FeedStore, Tombstone
from connectors.appfeed.webhook import WebhookEvent
from schemas.item import ItemKind, ItemSnapshot, MediaRef, UnitRef

CST = timezone(timedelta(hours=8))
BASE = "https://ck.example.gov.cn"
PORTAL = "https://www.example.gov.cn"
PHOTO = "3f" * 32
PDF = "9a" * 32
SCHEMA = json.loads(jsonfeed.SCHEMA_PATH.read_text())
ATOM = "{http://www.w3.org/2005/Atom}"

TITLES = [
    "关于做好2024年春节期间安全生产工作的通知",
    "市人民政府办公室关于印发《优化营商环境若干措施》的通知",
    "《优化营商环境若干措施》政策解读",
    "关于2024年度市级财政预算公开的公告",
    "市应急管理局发布低温雨雪冰冻天气预警",
]


def make_item(item_id: int = 1024, revision: int = 1, title: str = TITLES[0], day: int = 16, **changes) -> ItemSnapshot:
    published = datetime(2024, 1, day, 9, 30, tzinfo=CST)
    fields = dict(
        id=item_id,
        revision=revision,
        kind=ItemKind.policy,
        title=title,
        summary="要求各区、各部门压实安全生产责任，确保人民群众度过欢乐祥和的节日。",
        body_html=(
            "<p>各区人民政府，市政府各委、办、局：</p>"
            f'<p><img src="/media/{PHOTO}" alt="安全检查现场"></p>'
            "<p>春节将至，为切实做好节日期间安全生产工作，现就有关事项通知如下。</p>"
            f'<p>详见<a href="/media/{PDF}">附件1</a>及<a href="../202312/t20231220_998.html">上一期通知</a>。</p>'
        ),
        author="",
        unit=UnitRef(code="yjglj", name="市应急管理局"),
        issuer="某市人民政府办公室",
        index_no="000014349/2024-00110",
        doc_no="某政办发〔2024〕3号",
        written_date=date(2024, 1, 12),
        published_at=published,
        updated_at=published,
        keywords=["安全生产", "春节"],
        topic_category="综合政务\\应急管理",
        columns=["zcwj"],
        canonical_url=f"{PORTAL}/sites/www/zcwj/202401/t202401{day:02d}_{item_id}.html",
        media=[
            MediaRef(sha256=PHOTO, mime="image/jpeg", size=182_344, width=1080, height=720, alt="安全检查现场"),
            MediaRef(sha256=PDF, mime="application/pdf", size=96_512, filename="附件1：重点检查清单.pdf"),
        ],
        cover=PHOTO,
    )
    fields.update(changes)
    return ItemSnapshot(**fields)


def make_state(items: list[ItemSnapshot], page_size: int = 20, hub: str | None = None) -> FeedState:
    meta = FeedMeta(title="某市政府 App 要闻", base_url=BASE, home_page_url=PORTAL, hub_url=hub, page_size=page_size)
    state = FeedState(code="gov-app", meta=meta, updated_at=datetime(2024, 1, 20, 8, 0, tzinfo=UTC))
    for item in items:
        state.put(
            FeedEntry(
                item_id=item.id,
                revision=item.revision,
                entry=jsonfeed.render_item(item, BASE),
                published=item.published_at,
                modified=item.updated_at,
            ),
            max_entries=1000,
        )
    return state


def validate(feed: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(feed)


def test_schema_is_a_valid_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_item_fields_follow_the_portal_page_and_absolute_media():
    entry = jsonfeed.render_item(make_item(), BASE)
    assert entry["id"] == "urn:ck:item:1024"
    assert entry["url"] == f"{PORTAL}/sites/www/zcwj/202401/t20240116_1024.html"
    assert entry["title"] == TITLES[0]
    assert f'src="{BASE}/media/{PHOTO}"' in entry["content_html"]
    assert f'href="{BASE}/media/{PDF}"' in entry["content_html"]
    assert f'href="{PORTAL}/sites/www/zcwj/202312/t20231220_998.html"' in entry["content_html"]
    assert 'src="/' not in entry["content_html"] and 'href="/' not in entry["content_html"]
    assert entry["image"] == f"{BASE}/media/{PHOTO}"
    assert entry["attachments"] == [
        {"url": f"{BASE}/media/{PDF}", "mime_type": "application/pdf", "title": "附件1：重点检查清单.pdf", "size_in_bytes": 96_512}
    ]
    assert entry["tags"] == ["安全生产", "春节"]
    assert entry["language"] == "zh-CN"
    assert entry["authors"] == [{"name": "某市人民政府办公室"}]
    assert entry["_gov"] == {
        "index_no": "000014349/2024-00110",
        "doc_no": "某政办发〔2024〕3号",
        "issuer": "某市人民政府办公室",
        "written_date": "2024-01-12",
        "topic_category": "综合政务\\应急管理",
    }
    assert entry["_ck"]["revision"] == 1 and entry["_ck"]["kind"] == "policy"


def test_dates_are_rfc3339_in_china_standard_time():
    item = make_item(
        published_at=datetime(2024, 1, 16, 1, 30, tzinfo=UTC), updated_at=datetime(2024, 1, 17, 16, 5, 9, 123, tzinfo=UTC)
    )
    entry = jsonfeed.render_item(item, BASE)
    assert entry["date_published"] == "2024-01-16T09:30:00+08:00"
    assert entry["date_modified"] == "2024-01-18T00:05:09+08:00"


def test_id_never_changes_when_the_item_is_corrected():
    first = jsonfeed.render_item(make_item(), BASE)
    corrected = jsonfeed.render_item(
        make_item(
            revision=2,
            title=TITLES[0] + "（更正）",
            updated_at=datetime(2024, 1, 17, 10, 0, tzinfo=CST),
            correction_note="原文第二段“1月20日”应为“1月21日”。",
        ),
        BASE,
    )
    assert corrected["id"] == first["id"]
    assert corrected["date_published"] == first["date_published"]
    assert corrected["date_modified"] == "2024-01-17T10:00:00+08:00"
    assert corrected["_ck"]["correction_note"].startswith("原文第二段")


def test_feed_pages_validate_and_link_with_next_url():
    items = [make_item(1000 + n, title=TITLES[n], day=10 + n) for n in range(5)]
    state = make_state(items, page_size=2, hub="https://hub.example.gov.cn/")
    state.remove(
        Tombstone(
            item_id=999, entry_id=jsonfeed.entry_id(999), revision=3, removed_at=datetime(2024, 1, 19, 18, 0, tzinfo=CST), reason="withdrawn"
        )
    )
    pages = [jsonfeed.build_feed(state, n) for n in (1, 2, 3)]
    for page in pages:
        validate(page)
        assert page["version"] == "https://jsonfeed.org/version/1.1"
        assert page["feed_url"] == f"{BASE}/feeds/gov-app/feed.json"
        assert page["hubs"] == [{"type": "WebSub", "url": "https://hub.example.gov.cn/"}]
        assert page["language"] == "zh-CN"
    assert [p.get("next_url") for p in pages] == [
        f"{BASE}/feeds/gov-app/feed.json?page=2",
        f"{BASE}/feeds/gov-app/feed.json?page=3",
        None,
    ]
    ids = [entry["id"] for page in pages for entry in page["items"]]
    assert ids == [jsonfeed.entry_id(n) for n in (1004, 1003, 1002, 1001, 1000)]  # newest first
    assert pages[0]["_ck_removed"] == [{"id": "urn:ck:item:999", "removed_at": "2024-01-19T18:00:00+08:00", "reason": "withdrawn"}]
    assert "_ck_removed" not in pages[1]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda f: f.pop("version"),
        lambda f: f["items"][0].pop("content_html"),
        lambda f: f["items"][0].update(date_published="2024-01-16 09:30"),
        lambda f: f["items"][0].update(id=1024),
        lambda f: f["items"][0].update(image="/media/abc"),
        lambda f: f.update(hubs=[{"url": "https://hub.example.gov.cn/"}]),
        lambda f: f.update(nextUrl="https://x.example/"),
        lambda f: f["_ck_removed"].append({"id": "urn:ck:item:1", "removed_at": "2024-01-19T18:00:00+08:00"}),
        lambda f: f["items"][0]["_gov"].pop("index_no"),
    ],
)
def test_schema_rejects_broken_feeds(breakage):
    feed = jsonfeed.build_feed(make_state([make_item()]))
    validate(feed)
    breakage(feed)
    with pytest.raises(jsonschema.ValidationError):
        validate(feed)


def test_rss_parses_with_guid_rfc822_dates_and_full_content():
    state = make_state([make_item(1000 + n, title=TITLES[n], day=10 + n) for n in range(3)], page_size=2, hub="https://hub.example.gov.cn/")
    body = rss_atom.rss_bytes(state)
    parsed = feedparser.parse(body)
    assert parsed.bozo is False, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "某市政府 App 要闻"
    assert [e.id for e in parsed.entries] == ["urn:ck:item:1002", "urn:ck:item:1001"]
    first = parsed.entries[0]
    assert first.guidislink is False
    assert first.published == "Fri, 12 Jan 2024 09:30:00 +0800"
    assert first.link == f"{PORTAL}/sites/www/zcwj/202401/t20240112_1002.html"
    assert f'src="{BASE}/media/{PHOTO}"' in first.content[0].value
    assert [t.term for t in first.tags] == ["安全生产", "春节"]

    channel = etree.fromstring(body).find("channel")
    links = {link.get("rel"): link.get("href") for link in channel.findall(f"{ATOM}link")}
    assert links == {
        "self": f"{BASE}/feeds/gov-app/feed.xml",
        "hub": "https://hub.example.gov.cn/",
        "next": f"{BASE}/feeds/gov-app/feed.xml?page=2",
    }
    item = channel.find("item")
    assert item.find("guid").get("isPermaLink") == "false"
    assert item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is not None


def test_atom_parses_with_stable_ids_and_links():
    state = make_state([make_item(1000 + n, title=TITLES[n], day=10 + n) for n in range(3)], page_size=2, hub="https://hub.example.gov.cn/")
    body = rss_atom.atom_bytes(state, page=2)
    parsed = feedparser.parse(body)
    assert parsed.bozo is False, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.id for e in parsed.entries] == ["urn:ck:item:1000"]
    assert parsed.entries[0].updated == "2024-01-10T09:30:00+08:00"
    assert parsed.entries[0].author == "某市人民政府办公室"
    feed = etree.fromstring(body)
    assert feed.find(f"{ATOM}id").text == f"{BASE}/feeds/gov-app/atom.xml"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == f"{BASE}/feeds/gov-app/atom.xml?page=2"
    assert links["hub"] == "https://hub.example.gov.cn/"
    assert "next" not in links


def test_same_state_renders_the_same_bytes():
    state = make_state([make_item(), make_item(1025, title=TITLES[1], day=17)])
    assert rss_atom.rss_bytes(state) == rss_atom.rss_bytes(state)
    assert rss_atom.atom_bytes(state) == rss_atom.atom_bytes(state)
    assert jsonfeed.dumps(jsonfeed.build_feed(state)) == jsonfeed.dumps(jsonfeed.build_feed(state))


def test_store_writes_atomically_and_keeps_newest_first(tmp_path):
    store = FeedStore(tmp_path)
    meta = make_state([]).meta
    older, newer = make_item(1, title=TITLES[1], day=11), make_item(2, title=TITLES[2], day=12)
    with store.edit("gov-app", meta) as state:
        for item in (newer, older):
            state.put(FeedEntry(item_id=item.id, revision=1, entry=jsonfeed.render_item(item, BASE), published=item.published_at, modified=item.updated_at), 1000)
    on_disk = store.read("gov-app")
    assert [e.item_id for e in on_disk.entries] == [2, 1]
    assert on_disk.entries[0].entry["title"] == TITLES[2]
    assert sorted(p.name for p in (tmp_path / "gov-app").iterdir()) == ["state.json", "state.lock"]

    stamp = (tmp_path / "gov-app" / "state.json").stat().st_mtime_ns
    with store.edit("gov-app", meta):
        pass  # nothing changed: nothing written
    assert (tmp_path / "gov-app" / "state.json").stat().st_mtime_ns == stamp

    with store.edit("gov-app", meta) as state:
        state.entry(2).pushed = "delivery-1"  # bookkeeping only
    assert store.read("gov-app").updated_at == on_disk.updated_at
    assert store.read("gov-app").entry(2).pushed == "delivery-1"

    with store.edit("gov-app", meta) as state:
        state.remove(Tombstone(item_id=2, entry_id=jsonfeed.entry_id(2), revision=1, removed_at=datetime(2024, 1, 20, tzinfo=CST), reason="withdrawn"))
    after = store.read("gov-app")
    assert [e.item_id for e in after.entries] == [1]
    assert [t.item_id for t in after.removed] == [2]
    assert after.updated_at > on_disk.updated_at


def test_store_aged_entries_and_old_tombstones_drop_off():
    state = make_state([make_item(n, title=TITLES[n % 5], day=10 + n) for n in range(4)])
    state.put(state.entry(0).model_copy(), max_entries=3)
    assert [e.item_id for e in state.entries] == [3, 2, 1]
    for n, day in ((7, 1), (8, 25)):
        state.remove(Tombstone(item_id=n, entry_id=jsonfeed.entry_id(n), revision=1, removed_at=datetime(2024, 1, day, tzinfo=CST), reason="withdrawn"))
    state.forget_removed_before(datetime(2024, 1, 10, tzinfo=CST))
    assert [t.item_id for t in state.removed] == [8]


@pytest.mark.parametrize("code", ["../etc", "a/b", "", ".hidden", "新闻"])
def test_store_refuses_codes_that_are_not_safe_names(tmp_path, code):
    with pytest.raises(FeedNotFound):
        FeedStore(tmp_path).read(code)


def test_store_reports_missing_feed(tmp_path):
    with pytest.raises(FeedNotFound):
        FeedStore(tmp_path).read("gov-app")


def test_webhook_signature_and_delivery_ids():
    body = webhook.encode(WebhookEvent.publish, "gov-app", jsonfeed.render_item(make_item(), BASE))
    assert json.loads(body)["item"]["title"] == TITLES[0]
    signature = webhook.sign("s3cret", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert webhook.signature_matches("s3cret", body, signature)
    assert not webhook.signature_matches("other", body, signature)
    assert not webhook.signature_matches("s3cret", body + b" ", signature)
    assert not webhook.signature_matches("s3cret", body, None)
    first = webhook.delivery_id("gov-app", 1024, 1, WebhookEvent.publish)
    assert first == webhook.delivery_id("gov-app", 1024, 1, WebhookEvent.publish)
    assert first != webhook.delivery_id("gov-app", 1024, 2, WebhookEvent.publish)
    assert first != webhook.delivery_id("gov-app", 1024, 1, WebhookEvent.takedown)
