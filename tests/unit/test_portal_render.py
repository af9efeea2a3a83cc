"""Portal rendering with no I/O: article pages, lists, sitemap and feed from snapshots and entries."""

import hashlib
from datetime import datetime

import feedparser
import pytest
from lxml import etree

from connectors.portal.render import (
    PageEntry,
    SiteInfo,
    paginate,
    render_article,
    render_column_page,
    render_home,
    render_rss,
    render_sitemaps,
    sanitize_body,
)
from schemas.item import ItemLink, RelationKind
from tests.integration.portal_items import (
    CITY_COLUMNS,
    INTERPRETATION_TITLE,
    POLICY_TITLE,
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
def city() -> SiteInfo:
    return SiteInfo(code="cq", name="重庆市人民政府网", base_url=BASE, columns=CITY_COLUMNS, id_code="5000000095")


def page_of(item, site: SiteInfo) -> tuple[str, str]:
    path = item.canonical_url.removeprefix(BASE)
    return path, render_article(item, site, item.columns, path)


def links(document) -> dict[str, str]:
    return {"".join(a.itertext()).strip(): a.get("href") for a in document.iter("a")}


def entry(n: int, columns: list[str] | None = None) -> PageEntry:
    item = plain_news(BASE, n)
    return PageEntry(title=item.title, columns=columns or item.columns, path=item.canonical_url.removeprefix(BASE),
                     url=item.canonical_url, published_at=item.published_at, updated_at=item.updated_at,
                     revision=1, summary=item.summary)


def test_policy_page_carries_the_government_metadata_block(city):
    _, html = page_of(policy(BASE), city)
    document = parse_html(html)

    assert metadata(document) == {
        "index_no": "11500000009275780L/2019-00162",
        "topic_category": "城乡建设、环境保护\\房地产业",
        "issuer": "重庆市人民政府办公厅",
        "written_date": "2019-12-20",
        "title": POLICY_TITLE,
        "doc_no": "渝府办发〔2019〕64号",
        "published_at": "2019-12-25",
        "keywords": "城乡建设 老旧小区 通知",
    }
    labels = ["".join(th.itertext()) for th in document.iter("th") if th.get("scope") == "row"]
    assert labels == ["索引号：", "主题分类：", "发布机构：", "成文日期：", "标题：", "文号：", "发布日期：", "主题词："]
    assert document.find(".//h1").text == POLICY_TITLE
    assert document.find(".//title").text == f"{POLICY_TITLE}_重庆市人民政府网"
    assert "到2022年基本完成2000年底前建成的老旧小区改造任务" in html
    assert '<td data-field="doc_no">渝府办发〔2019〕64号</td>' in html


def test_page_head_has_site_metadata_feed_link_and_canonical(city):
    path, html = page_of(policy(BASE), city)
    document = parse_html(html)
    meta = {m.get("name"): m.get("content") for m in document.iter("meta") if m.get("name")}

    assert meta["SiteName"] == "重庆市人民政府网"
    assert meta["SiteIDCode"] == "5000000095"
    assert meta["ColumnName"] == "政策文件"
    assert meta["PubDate"] == "2019-12-25 16:30"
    assert meta["Url"] == BASE + path
    feeds = [link for link in document.iter("link") if link.get("rel") == "alternate"]
    assert [(link.get("type"), link.get("href")) for link in feeds] == [("application/rss+xml", f"{BASE}/sites/cq/rss.xml")]
    assert [link.get("href") for link in document.iter("link") if link.get("rel") == "canonical"] == [BASE + path]
    footer = "".join(document.find(".//footer").itertext())
    assert "重庆市人民政府网" in footer and "网站标识码：5000000095" in footer


def test_site_id_code_is_optional(city):
    site = SiteInfo(code="cq", name="重庆市人民政府网", base_url=BASE, columns=CITY_COLUMNS)
    _, html = page_of(policy(BASE), site)
    parse_html(html)
    assert "网站标识码" not in html and "SiteIDCode" not in html


def test_news_page_leaves_out_metadata_it_does_not_have(city):
    item = plain_news(BASE, 1)
    _, html = page_of(item, city)
    assert set(metadata(parse_html(html))) == {"index_no", "issuer", "title", "published_at"}


def test_policy_and_interpretation_link_to_each_other(city):
    policy_item, interpretation_item = policy(BASE), interpretation(BASE)
    policy_links = links(parse_html(page_of(policy_item, city)[1]))
    interpretation_document = parse_html(page_of(interpretation_item, city)[1])

    assert policy_links[INTERPRETATION_TITLE] == interpretation_item.canonical_url
    assert links(interpretation_document)[POLICY_TITLE] == policy_item.canonical_url
    assert interpretation_document.find(".//p[@class='subtitle']").text == "市住房城乡建委有关负责人答记者问"
    sections = [s.find("h2").text for s in interpretation_document.iter("section")]
    assert sections == ["政策原文"]


def test_correction_note_is_visible(city):
    item = policy(BASE, revision=2, correction_note="原文第三段“2021年”应为“2022年”，特此更正。")
    document = parse_html(page_of(item, city)[1])
    note = document.find(".//aside[@class='correction']")
    assert "".join(note.itertext()).strip().startswith("更正：原文第三段“2021年”应为“2022年”，特此更正。")
    assert "更正时间：2019-12-26 17:30" in "".join(note.itertext())
    assert document.find(".//article").get("data-revision") == "2"


def test_republished_copy_names_its_source_and_points_canonical_at_the_original():
    district = SiteInfo(code="ybq", name="重庆市渝北区人民政府网", base_url=BASE, columns={"sjwj": "上级文件"})
    item = policy(BASE)
    path = "/sites/ybq/sjwj/201912/t20191225_1064.html"
    document = parse_html(render_article(item, district, ["sjwj"], path))

    source = document.find(".//span[@class='source']")
    assert "".join(source.itertext()) == "来源：重庆市人民政府办公厅"
    assert source.find("a").get("href") == item.canonical_url
    assert [link.get("href") for link in document.iter("link") if link.get("rel") == "canonical"] == [item.canonical_url]


def test_republished_from_link_is_the_source(city):
    original = "https://www.gov.cn/zhengce/content/2019-12/20/content_5462620.htm"
    item = plain_news(BASE, 3).model_copy(update={"related": [
        ItemLink(id=9, title="国务院办公厅关于全面推进城镇老旧小区改造工作的指导意见", url=original,
                 relation=RelationKind.republished_from)]})
    document = parse_html(page_of(item, city)[1])
    source = document.find(".//span[@class='source']")
    assert "".join(source.itertext()) == "来源：国务院办公厅关于全面推进城镇老旧小区改造工作的指导意见"
    assert source.find("a").get("href") == original


def test_body_images_point_at_the_site_copy(city):
    photo = png_bytes()
    sha = hashlib.sha256(photo).hexdigest()
    _, html = page_of(livelihood_news(BASE, photo, sha), city)
    document = parse_html(html)
    images = [(img.get("src"), img.get("alt")) for img in document.iter("img")]
    assert images == [(f"{BASE}/sites/cq/media/{sha}.png", "渝北区新建的立体停车楼")]
    assert "/media/" + sha + '"' not in html


XSS_BODY = (
    '<p onclick="alert(1)">正文<script>alert("x")</script></p>'
    '<img src="/media/' + "0" * 64 + '" onerror="alert(1)">'
    '<img src="https://evil.example/track.gif"><img src="data:image/png;base64,AAAA">'
    '<a href="javascript:alert(1)">点此</a><a href="JaVaScRiPt:alert(2)">再点</a>'
    '<a href=" java&#x09;script:alert(3)">三</a><a href="//evil.example/x">四</a>'
    '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>'
    '<svg><script>alert(4)</script></svg><a href="/sites/cq/">站内</a><a href="https://www.gov.cn/">中国政府网</a>'
)


def test_script_event_handlers_and_javascript_urls_never_reach_the_page(city):
    item = plain_news(BASE, 5).model_copy(update={
        "title": '<script>alert("title")</script>通知"><img src=x onerror=alert(1)>',
        "subtitle": "<b onmouseover=alert(1)>副题</b>",
        "summary": "</p><script>alert(1)</script>",
        "keywords": ['"><script>alert(1)</script>'],
        "body_html": XSS_BODY,
        "correction_note": "<img src=x onerror=alert(1)>",
        "related": [ItemLink(id=1, title="<script>alert(1)</script>", url="javascript:alert(1)",
                             relation=RelationKind.interpretation)],
    })
    _, html = page_of(item, city)
    document = parse_html(html)
    lowered = html.lower()

    assert "<script" not in lowered
    assert "javascript:" not in lowered
    for element in document.iter():
        assert not any(name.lower().startswith("on") for name in element.attrib), element.tag
        assert element.tag not in ("script", "iframe", "svg", "object")
        for attribute in ("href", "src"):
            if element.get(attribute):
                assert element.get(attribute).startswith(("https://", "http://")), element.get(attribute)
    body = document.find(".//div[@class='article-body']")
    assert [img.get("src") for img in body.iter("img")] == [None, None, None]
    assert links(document)["站内"] == f"{BASE}/sites/cq/"
    assert links(document)["中国政府网"] == "https://www.gov.cn/"
    assert links(document)["点此"] is None and links(document)["四"] is None
    assert document.find(".//h1").text == item.title  # shown as text, not markup


def test_sanitize_body_is_markup_only_after_cleaning(city):
    item = plain_news(BASE, 5).model_copy(update={"body_html": '<p style="position:fixed" class="x">段落</p>'})
    assert str(sanitize_body(item, city)) == "<p>段落</p>"


def test_column_pages_paginate_newest_first(city):
    entries = [entry(n) for n in range(1, 46)]
    pages = paginate(entries, 20)
    assert [len(p) for p in pages] == [20, 20, 5]
    assert pages[0][0].title == "重庆市第45次复工复产调度会召开"
    assert pages[2][-1].title == "重庆市第1次复工复产调度会召开"
    assert paginate([], 20) == [[]]

    middle = parse_html(render_column_page(city, "ywdt", pages[1], 1, 3, 45))
    pager = {a.text: a.get("href") for a in middle.find(".//nav[@class='pager']").iter("a")}
    assert pager == {
        "首页": f"{BASE}/sites/cq/ywdt/",
        "上一页": f"{BASE}/sites/cq/ywdt/",
        "下一页": f"{BASE}/sites/cq/ywdt/index_2.html",
        "尾页": f"{BASE}/sites/cq/ywdt/index_2.html",
    }
    assert "共 45 条 第 2/3 页" in "".join(middle.find(".//nav[@class='pager']").itertext())
    assert len(middle.find(".//ul[@class='list']")) == 20

    first = parse_html(render_column_page(city, "ywdt", pages[0], 0, 3, 45))
    assert {a.text for a in first.find(".//nav[@class='pager']").iter("a")} == {"下一页", "尾页"}


def test_empty_column_and_home_pages_parse(city):
    assert "暂无信息" in render_column_page(city, "zcwj", [], 0, 1, 0)
    parse_html(render_column_page(city, "zcwj", [], 0, 1, 0))
    home = parse_html(render_home(city, [entry(n) for n in range(1, 4)] + [entry(9, ["zcwj", "ywdt"])]))
    latest = [a.text for a in home.find(".//section[@class='latest']").iter("a")]
    assert latest[0] == "重庆市第9次复工复产调度会召开" and len(latest) == 4
    sections = {s.get("data-column"): [a.text for a in s.find("ul").iter("a")] if s.find("ul") is not None else []
                for s in home.iter("section") if s.get("data-column")}
    assert sections["zcwj"] == ["重庆市第9次复工复产调度会召开"]
    assert len(sections["ywdt"]) == 4 and sections["msxx"] == []


def test_sitemap_lists_absolute_urls_with_lastmod(city):
    entries = [entry(n) for n in range(1, 4)]
    files = render_sitemaps(city, entries)
    assert list(files) == ["sitemap.xml"]
    root = etree.fromstring(files["sitemap.xml"])
    assert root.tag == f"{SITEMAP}urlset"
    locs = [u.findtext(f"{SITEMAP}loc") for u in root.iter(f"{SITEMAP}url")]
    assert locs[:5] == [f"{BASE}/sites/cq/"] + [f"{BASE}/sites/cq/{c}/" for c in CITY_COLUMNS]
    assert locs[5:] == [e.url for e in reversed(entries)]
    article = root.findall(f"{SITEMAP}url")[5]
    assert article.findtext(f"{SITEMAP}lastmod") == "2020-03-04T09:00:00+08:00"
    assert all(loc.startswith(BASE + "/") for loc in locs)


def test_sitemap_becomes_an_index_above_the_url_limit(city):
    files = render_sitemaps(city, [entry(n) for n in range(1, 8)], max_urls=4)  # 1 home + 4 columns + 7
    assert list(files) == ["sitemap.xml", "sitemap_1.xml", "sitemap_2.xml", "sitemap_3.xml"]
    index = etree.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SITEMAP}sitemapindex"
    assert [s.findtext(f"{SITEMAP}loc") for s in index] == [f"{BASE}/sites/cq/sitemap_{n}.xml" for n in (1, 2, 3)]
    counts = [len(etree.fromstring(files[f"sitemap_{n}.xml"])) for n in (1, 2, 3)]
    assert counts == [4, 4, 4]


def test_rss_parses_cleanly(city):
    entries = [entry(n) for n in range(1, 4)]
    feed = feedparser.parse(render_rss(city, entries))
    assert feed.bozo == 0
    assert feed.version == "rss20"
    assert feed.feed.title == "重庆市人民政府网"
    assert feed.feed.link == f"{BASE}/sites/cq/"
    assert [e.link for e in feed.entries] == [e.url for e in reversed(entries)]
    assert feed.entries[0].summary == "第3次调度会部署重点项目复工工作。"
    assert datetime(*feed.entries[0].published_parsed[:6]) == datetime(2020, 3, 4, 1, 0)  # 09:00 +08:00 in UTC


def test_rss_is_stable_for_an_unchanged_site(city):
    entries = [entry(n) for n in range(1, 4)]
    assert render_rss(city, entries) == render_rss(city, list(reversed(entries)))
