"""The portal connector against a real folder of sites, the store's real media files and a real HTTP
server in front of the generated files."""

import errno
import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import feedparser
import httpx
import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.routing import Mount

from connectors.base import Connector, PermanentError, RetryableError
from connectors.portal.connector import PortalConnector
from connectors.portal.serve import SITES_MOUNT, sites_app
from connectors.files import write_atomic
from connectors.portal.site import SiteWriter
from connectors.portal.urls import article_url
from connectors.sandbox.server import ServerThread
from pipeline.store.media_files import MediaFiles
from schemas.delivery import DeliveryState, ErrorClass
from tests.integration.portal_items import (
    CST,
    INTERPRETATION_TITLE,
    NEWS_ID,
    POLICY_ID,
    POLICY_TITLE,
    city_target,
    district_target,
    interpretation,
    livelihood_news,
    metadata,
    parse_html,
    plain_news,
    png_bytes,
    policy,
)

BASE = "https://www.cq.gov.cn"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def media(tmp_path) -> MediaFiles:
    return MediaFiles(tmp_path / "media")


@pytest.fixture
def connector(media) -> PortalConnector:
    return PortalConnector(media)


@pytest.fixture
def sites(tmp_path) -> Path:
    return tmp_path / "sites"


def read(sites: Path, url: str) -> str:
    return (sites / url.removeprefix(f"{BASE}/sites/")).read_text(encoding="utf-8")


def listed(sites: Path, site: str, page: str) -> list[str]:
    """Titles linked from a list page's main list."""
    document = parse_html((sites / site / page).read_text(encoding="utf-8"))
    lists = [ul for ul in document.iter("ul") if ul.get("class") == "list"]
    return [a.text for ul in lists for a in ul.iter("a")]


def sitemap_locs(sites: Path, site: str) -> list[str]:
    root = etree.parse(str(sites / site / "sitemap.xml")).getroot()
    assert root.tag == f"{SITEMAP}urlset"
    return [loc.text for loc in root.iter(f"{SITEMAP}loc")]


def feed_links(sites: Path, site: str) -> list[str]:
    feed = feedparser.parse((sites / site / "rss.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    return [e.link for e in feed.entries]


def all_files(sites: Path) -> list[Path]:
    return [p for p in sites.rglob("*") if p.is_file()]


def test_it_is_a_connector(connector):
    assert isinstance(connector, Connector)
    assert connector.channel == "portal"


def test_publish_on_the_home_site_lands_at_the_canonical_url(connector, sites):
    item = policy(BASE)
    receipt = connector.publish(item, city_target(sites, BASE, ["zcwj"]))

    assert receipt.state == DeliveryState.succeeded
    assert receipt.external_id == f"cq/{POLICY_ID}"
    assert receipt.url == item.canonical_url == f"{BASE}/sites/cq/zcwj/201912/t20191225_{POLICY_ID}.html"
    document = parse_html(read(sites, receipt.url))
    assert metadata(document)["doc_no"] == "渝府办发〔2019〕64号"
    assert metadata(document)["written_date"] == "2019-12-20"
    assert listed(sites, "cq", "zcwj/index.html") == [POLICY_TITLE]
    assert POLICY_TITLE in listed(sites, "cq", "index.html")
    assert receipt.url in sitemap_locs(sites, "cq")
    assert feed_links(sites, "cq") == [receipt.url]

    manifest = json.loads((sites / "cq" / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["items"][str(POLICY_ID)] | {"media_files": None, "summary": None} == {
        "title": POLICY_TITLE,
        "columns": ["zcwj"],
        "path": f"/sites/cq/zcwj/201912/t20191225_{POLICY_ID}.html",
        "url": receipt.url,
        "published_at": "2019-12-25T16:30:00+08:00",
        "updated_at": "2019-12-25T16:30:00+08:00",
        "revision": 1,
        "media_files": None,
        "summary": None,
    }


def test_every_generated_page_parses_and_every_column_has_a_list(connector, media, sites):
    photo = png_bytes()
    target_columns = {POLICY_ID: ["zcwj"], NEWS_ID: ["msxx", "ywdt"]}
    for item in (policy(BASE), interpretation(BASE), livelihood_news(BASE, photo, media.put(photo))):
        connector.publish(item, city_target(sites, BASE, target_columns.get(item.id, item.columns)))

    pages = [p for p in all_files(sites) if p.suffix == ".html"]
    assert {p.relative_to(sites / "cq").as_posix() for p in pages if p.name == "index.html"} == {
        "index.html", "zcwj/index.html", "zcjd/index.html", "ywdt/index.html", "msxx/index.html"}
    for page in pages:
        parse_html(page.read_text(encoding="utf-8"))
    assert len(pages) == 8


def test_policy_and_interpretation_link_both_ways(connector, sites):
    policy_receipt = connector.publish(policy(BASE), city_target(sites, BASE, ["zcwj"]))
    interpretation_receipt = connector.publish(interpretation(BASE), city_target(sites, BASE, ["zcjd"]))

    def links(url: str) -> dict[str, str]:
        return {a.text: a.get("href") for a in parse_html(read(sites, url)).iter("a")}

    assert links(policy_receipt.url)[INTERPRETATION_TITLE] == interpretation_receipt.url
    assert links(interpretation_receipt.url)[POLICY_TITLE] == policy_receipt.url


def test_inline_image_is_copied_into_the_site_and_the_page_uses_the_copy(connector, media, sites):
    photo = png_bytes("navy", (120, 80))
    sha = media.put(photo)
    item = livelihood_news(BASE, photo, sha)
    receipt = connector.publish(item, city_target(sites, BASE, ["msxx", "ywdt"]))

    assert (sites / "cq" / "media" / f"{sha}.png").read_bytes() == photo
    images = [img.get("src") for img in parse_html(read(sites, receipt.url)).iter("img")]
    assert images == [f"{BASE}/sites/cq/media/{sha}.png"]
    assert receipt.url == item.canonical_url
    assert item.title in listed(sites, "cq", "msxx/index.html")
    assert item.title in listed(sites, "cq", "ywdt/index.html")


def test_columns_paginate_trs_style(connector, sites):
    target = city_target(sites, BASE, ["ywdt"])
    for n in range(1, 46):
        connector.publish(plain_news(BASE, n), target)

    assert len(listed(sites, "cq", "ywdt/index.html")) == 20
    assert listed(sites, "cq", "ywdt/index.html")[0] == "重庆市第45次复工复产调度会召开"
    assert len(listed(sites, "cq", "ywdt/index_1.html")) == 20
    assert listed(sites, "cq", "ywdt/index_2.html") == [f"重庆市第{n}次复工复产调度会召开" for n in range(5, 0, -1)]
    assert not (sites / "cq" / "ywdt" / "index_3.html").exists()
    assert len(sitemap_locs(sites, "cq")) == 1 + 4 + 45
    assert len(feed_links(sites, "cq")) == 45


def test_page_size_comes_from_the_site_config(connector, sites):
    target = city_target(sites, BASE, ["ywdt"], page_size=10)
    for n in range(1, 26):
        connector.publish(plain_news(BASE, n), target)
    pages = ("index.html", "index_1.html", "index_2.html")
    assert [len(listed(sites, "cq", f"ywdt/{p}")) for p in pages] == [10, 10, 5]


def test_takedown_removes_the_page_and_every_trace_of_it(connector, media, sites):
    target = city_target(sites, BASE, ["ywdt"])
    for n in range(1, 42):
        connector.publish(plain_news(BASE, n), target)
    photo = png_bytes("green")
    news = livelihood_news(BASE, photo, media.put(photo))
    news_target = city_target(sites, BASE, ["msxx", "ywdt"])
    receipt = connector.publish(news, news_target)
    assert (sites / "cq" / "ywdt" / "index_2.html").exists()  # 42 items: 20 + 20 + 2

    done = connector.take_down(news, news_target, receipt)

    assert done.state == DeliveryState.succeeded and done.external_id == f"cq/{NEWS_ID}"
    assert done.detail == {"removed": True}
    assert not Path(sites / receipt.url.removeprefix(f"{BASE}/sites/")).exists()
    assert news.title not in listed(sites, "cq", "msxx/index.html")
    for page in ("index.html", "index_1.html", "index_2.html"):
        assert news.title not in listed(sites, "cq", f"ywdt/{page}")
    assert news.title not in listed(sites, "cq", "index.html")
    assert receipt.url not in sitemap_locs(sites, "cq")
    assert receipt.url not in feed_links(sites, "cq")
    assert list((sites / "cq" / "media").iterdir()) == []  # the photo is not reachable any more
    assert connector.verify(news, news_target, receipt) is None

    old = plain_news(BASE, 1)
    connector.take_down(old, target, connector.verify(old, target, None))
    assert not (sites / "cq" / "ywdt" / "index_2.html").exists()  # 40 left: two pages

    again = connector.take_down(news, news_target, receipt)
    assert again.state == DeliveryState.succeeded and again.detail == {"removed": False}


def test_takedown_of_an_item_never_published_is_a_success(connector, sites):
    item = policy(BASE)
    receipt = connector.take_down(item, city_target(sites, BASE, ["zcwj"]), None)
    assert receipt.state == DeliveryState.succeeded and receipt.detail == {"removed": False}


def test_takedown_also_clears_a_page_left_by_an_interrupted_publish(connector, sites):
    target = city_target(sites, BASE, ["zcwj"])
    item = policy(BASE)
    orphan = sites / "cq" / "zcwj" / "201912" / f"t20191225_{POLICY_ID}.html"
    write_atomic(orphan, b"<!DOCTYPE html><title>half</title>")

    assert connector.verify(item, target, None) is None
    receipt = connector.take_down(item, target, None)
    assert receipt.detail == {"removed": False}
    assert not orphan.exists()


def test_correction_rewrites_the_page_in_place_with_the_note(connector, sites):
    target = city_target(sites, BASE, ["zcwj"])
    first = connector.publish(policy(BASE), target)
    corrected = policy(BASE, revision=2, correction_note="第二部分“2021年”应为“2022年”，特此更正。")

    second = connector.correct(corrected, target, first)

    assert second.url == first.url
    assert second.detail["revision"] == 2
    document = parse_html(read(sites, second.url))
    note = "".join(document.find(".//aside[@class='correction']").itertext())
    assert "更正：第二部分“2021年”应为“2022年”，特此更正。" in note
    assert connector.verify(corrected, target, first) == second
    assert connector.verify(policy(BASE, revision=3), target, second) is None
    lastmod = [u.findtext(f"{SITEMAP}lastmod") for u in etree.parse(str(sites / "cq" / "sitemap.xml")).getroot()
               if u.findtext(f"{SITEMAP}loc") == second.url]
    assert lastmod == ["2019-12-26T17:30:00+08:00"]


def test_a_late_older_revision_does_not_undo_a_correction(connector, sites):
    target = city_target(sites, BASE, ["zcwj"])
    connector.publish(policy(BASE, revision=2, correction_note="已更正。"), target)
    receipt = connector.publish(policy(BASE, revision=1), target)
    assert receipt.detail["revision"] == 2
    assert "已更正。" in read(sites, receipt.url)


def test_republishing_on_a_district_site_gets_its_own_url(connector, sites):
    item = policy(BASE)
    home = connector.publish(item, city_target(sites, BASE, ["zcwj"]))
    copy = connector.publish(item, district_target(sites, BASE, ["sjwj"]))

    assert copy.external_id == f"ybq/{POLICY_ID}"
    assert copy.url == article_url(BASE, "ybq", "sjwj", item.published_at.astimezone(CST), POLICY_ID)
    assert copy.url != home.url == item.canonical_url
    document = parse_html(read(sites, copy.url))
    source = document.find(".//span[@class='source']")
    assert source.find("a").get("href") == item.canonical_url
    assert [link.get("href") for link in document.iter("link") if link.get("rel") == "canonical"] == [item.canonical_url]
    assert "网站标识码：5001120001" in "".join(document.find(".//footer").itertext())
    assert listed(sites, "ybq", "sjwj/index.html") == [POLICY_TITLE]
    assert sitemap_locs(sites, "ybq")[-1] == copy.url

    connector.take_down(item, district_target(sites, BASE, ["sjwj"]), copy)
    assert listed(sites, "ybq", "sjwj/index.html") == []
    assert POLICY_TITLE in read(sites, home.url)  # the original stays on the city site


def test_url_on_a_site_stays_put_when_columns_change(connector, sites):
    item = plain_news(BASE, 7)
    first = connector.publish(item, district_target(sites, BASE, ["qxdt"]))
    moved = item.model_copy(update={"revision": 2})
    second = connector.publish(moved, district_target(sites, BASE, ["sjwj"]))
    assert second.url == first.url
    assert listed(sites, "ybq", "qxdt/index.html") == []
    assert listed(sites, "ybq", "sjwj/index.html") == [item.title]


def test_the_default_column_is_used_when_the_target_names_none(connector, sites):
    item = plain_news(BASE, 2)
    receipt = connector.publish(item, city_target(sites, BASE, []))
    assert receipt.url == item.canonical_url and receipt.detail["columns"] == ["ywdt"]


def test_hostile_content_never_reaches_any_generated_file(connector, sites):
    item = plain_news(BASE, 4).model_copy(update={
        "title": '<script>alert(1)</script>"><img src=x onerror=alert(1)>',
        "summary": "<svg onload=alert(1)>",
        "body_html": '<p>正文</p><script>alert(1)</script><img src="x" onerror="alert(1)">'
                     '<a href="javascript:alert(1)">链接</a><iframe src="javascript:alert(1)"></iframe>',
    })
    connector.publish(item, city_target(sites, BASE, ["ywdt"]))

    for file in all_files(sites):
        if file.suffix in (".html", ".xml"):
            text = file.read_text(encoding="utf-8").lower()
            assert "<script" not in text and "<svg" not in text and "<iframe" not in text, file
            assert "javascript:" not in text, file
        if file.suffix == ".html":
            for element in parse_html(file.read_text(encoding="utf-8")).iter():
                assert not any(name.startswith("on") for name in element.attrib), (file, element.tag)
    assert feedparser.parse((sites / "cq" / "rss.xml").read_bytes()).entries[0].title == item.title


def test_writes_are_atomic_and_leave_no_temp_files(connector, media, sites, tmp_path):
    photo = png_bytes()
    target = city_target(sites, BASE, ["ywdt"])
    for n in range(1, 25):
        connector.publish(plain_news(BASE, n), target)
    news = livelihood_news(BASE, photo, media.put(photo))
    receipt = connector.publish(news, city_target(sites, BASE, ["msxx"]))
    connector.take_down(news, city_target(sites, BASE, ["msxx"]), receipt)

    names = [p.name for p in all_files(sites)]
    assert [n for n in names if n.endswith(".tmp")] == []
    assert sorted(n for n in names if n.startswith(".")) == [".lock"]
    for file in all_files(sites):
        if file.name != ".lock":
            assert stat.S_IMODE(file.stat().st_mode) & 0o044 == 0o044, file  # readable by the web server

    page = tmp_path / "page.html"
    write_atomic(page, "旧内容".encode())
    with pytest.raises(TypeError):
        write_atomic(page, "not bytes")  # fails half-way: the old file stays whole, no temp file remains
    assert page.read_text(encoding="utf-8") == "旧内容"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".page")] == []


def test_concurrent_publishers_on_one_site_lose_nothing(connector, sites):
    target = city_target(sites, BASE, ["ywdt"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(lambda n: connector.publish(plain_news(BASE, n), target), range(1, 33)))

    manifest = json.loads((sites / "cq" / "_manifest.json").read_text(encoding="utf-8"))
    assert sorted(int(i) for i in manifest["items"]) == list(range(2001, 2033))
    assert len(set(sitemap_locs(sites, "cq")) & {r.url for r in receipts}) == 32
    assert len(listed(sites, "cq", "ywdt/index.html")) + len(listed(sites, "cq", "ywdt/index_1.html")) == 32


def test_site_writer_rebuilds_indexes_from_the_manifest(media, sites):
    writer = SiteWriter(sites, BASE, "cq", "重庆市人民政府网", {"ywdt": "要闻动态"}, page_size=5, media=media)
    for n in range(1, 8):
        writer.upsert(plain_news(BASE, n))
    for page in (sites / "cq" / "ywdt").glob("index*.html"):
        page.unlink()
    (sites / "cq" / "sitemap.xml").unlink()

    writer.rebuild_indexes()

    assert [len(listed(sites, "cq", f"ywdt/{p}")) for p in ("index.html", "index_1.html")] == [5, 2]
    assert len(sitemap_locs(sites, "cq")) == 1 + 1 + 7
    assert writer.remove(2003) is True and writer.remove(2003) is False
    assert set(writer.entries()) == {2001, 2002, 2004, 2005, 2006, 2007}


def test_configuration_mistakes_are_permanent(connector, sites):
    item = policy(BASE)
    with pytest.raises(PermanentError) as unknown_column:
        connector.publish(item, city_target(sites, BASE, ["no-such-column"]))
    assert connector.classify(unknown_column.value) == ErrorClass.permanent

    target = city_target(sites, BASE, ["zcwj"])
    for broken in ({"base_url": "www.cq.gov.cn"}, {"columns": {}}, {"page_size": 0}, {"timezone": "Mars/Olympus"},
                   {"columns": {"../etc": "逃逸"}}):
        with pytest.raises(PermanentError) as bad:
            connector.publish(item, target.model_copy(update={"config": target.config | broken}))
        assert connector.classify(bad.value) == ErrorClass.permanent, broken
    with pytest.raises(PermanentError):
        connector.publish(item, target.model_copy(update={"code": "../cq"}))
    without_default = city_target(sites, BASE, [])
    without_default.config.pop("default_column")
    with pytest.raises(PermanentError):
        connector.publish(item, without_default)
    assert not sites.exists() or list(sites.rglob("*.html")) == []


def test_error_classes(connector):
    assert connector.classify(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) == ErrorClass.retryable
    assert connector.classify(OSError(errno.EIO, os.strerror(errno.EIO))) == ErrorClass.retryable
    assert connector.classify(PermissionError(errno.EACCES, "Permission denied")) == ErrorClass.permanent
    assert connector.classify(OSError(errno.EROFS, "Read-only file system")) == ErrorClass.permanent
    assert connector.classify(RetryableError("busy")) == ErrorClass.retryable
    assert connector.classify(RuntimeError("?")) == ErrorClass.unknown


def test_a_read_only_site_folder_fails_permanently(connector, sites):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    target = city_target(sites, BASE, ["zcwj"])
    connector.publish(policy(BASE), target)
    (sites / "cq" / "zcjd").mkdir(exist_ok=True)
    os.chmod(sites / "cq", 0o555)
    try:
        with pytest.raises(OSError) as failure:
            connector.publish(interpretation(BASE), city_target(sites, BASE, ["zcjd"]))
        assert connector.classify(failure.value) == ErrorClass.permanent
    finally:
        os.chmod(sites / "cq", 0o755)


def test_render_previews_the_page_without_writing(connector, sites):
    item = policy(BASE)
    page = connector.render(item, district_target(sites, BASE, ["sjwj"]))
    assert page.url == f"{BASE}/sites/ybq/sjwj/201912/t20191225_{POLICY_ID}.html"
    parse_html(page.html)
    assert not sites.exists()


def test_published_sites_are_served_over_http(connector, media, tmp_path):
    sites = tmp_path / "served"
    app = Starlette(routes=[Mount(SITES_MOUNT, app=sites_app(sites))])
    with ServerThread(app) as server:
        photo = png_bytes("orange")
        item = livelihood_news(server.url, photo, media.put(photo))
        receipt = connector.publish(item, city_target(sites, server.url, ["msxx"]))
        with httpx.Client() as client:
            page = client.get(receipt.url)
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["x-content-type-options"] == "nosniff"
            assert item.title in page.text
            image_url = next(parse_html(page.text).iter("img")).get("src")
            image = client.get(image_url)
            assert image.status_code == 200 and image.content == photo
            assert client.get(f"{server.url}/sites/cq/").status_code == 200
            assert client.get(f"{server.url}/sites/cq/msxx/").text.count(item.title) == 1
            assert "xml" in client.get(f"{server.url}/sites/cq/sitemap.xml").headers["content-type"]
            assert client.get(f"{server.url}/sites/cq/_manifest.json").status_code == 404
            assert client.get(f"{server.url}/sites/cq/.lock").status_code == 404

            connector.take_down(item, city_target(sites, server.url, ["msxx"]), receipt)
            assert client.get(receipt.url).status_code == 404
            assert client.get(image_url).status_code == 404


def test_verify_answers_from_the_manifest(connector, sites):
    item = policy(BASE)
    target = city_target(sites, BASE, ["zcwj"])
    assert connector.verify(item, target, None) is None
    receipt = connector.publish(item, target)
    assert connector.verify(item, target, None) == receipt
    (sites / "cq" / "zcwj" / "201912" / f"t20191225_{POLICY_ID}.html").unlink()
    assert connector.verify(item, target, receipt) is None


def test_a_damaged_manifest_or_media_digest_needs_a_human(connector, sites):
    target = city_target(sites, BASE, ["zcwj"])
    connector.publish(policy(BASE), target)
    (sites / "cq" / "_manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(PermanentError):
        connector.publish(interpretation(BASE), city_target(sites, BASE, ["zcjd"]))

    photo = png_bytes()
    item = livelihood_news(BASE, photo, "../" * 8 + "etc/passwd")
    with pytest.raises(PermanentError):
        connector.publish(item, district_target(sites, BASE, ["qxdt"]))
