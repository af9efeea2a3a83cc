"""Body HTML extraction and the external-link gate."""

import pytest

from pipeline.gates import (
    external_host,
    extract_body,
    find_external_links,
    find_urls,
    is_allowed_host,
    normalize_domains,
)

ALLOWED = normalize_domains(["gov.cn", "127.0.0.1", "localhost", "*.cqnews.net"])


def test_block_elements_separate_and_inline_elements_join():
    body = extract_body("<p>第一段<b>六合</b>彩</p><p>13800138000</p><div>1234</div>line<br>two")
    assert body.text.split("\n") == ["第一段六合彩", "13800138000", "1234", "line", "two"]


def test_entities_are_decoded_and_scripts_styles_comments_skipped():
    html = (
        "<style>p{color:red}</style><p>A&amp;B&nbsp;C&#20845;</p>"
        "<script>var u='http://evil.com';</script><!-- 六合彩 --><template><a href='http://x.com'>x</a></template>"
    )
    body = extract_body(html)
    assert body.text == "A&B\xa0C六\n"
    assert body.links == ()


def test_links_carry_the_span_of_their_visible_text():
    html = '<p>详见<a href="https://www.taobao.com/item">这里</a>和<img src="//img.example.com/a.png">图</p>'
    body = extract_body(html)
    a, img = body.links
    assert (a.url, a.attribute, body.text[a.start : a.end]) == ("https://www.taobao.com/item", "href", "这里")
    assert (img.url, img.attribute, img.start, img.end) == ("//img.example.com/a.png", "src", 5, 5)


def test_unclosed_anchor_and_malformed_markup_do_not_raise():
    body = extract_body('<p>前<a href="http://a.com">甲<a href="http://b.com">乙</p></span></div>')
    assert [(link.url, body.text[link.start : link.end]) for link in body.links] == [
        ("http://a.com", "甲"),
        ("http://b.com", "乙\n"),
    ]


@pytest.mark.parametrize(
    "host", ["gov.cn", "www.gov.cn", "www.cq.gov.cn", "WWW.CQ.GOV.CN", "www.cq.gov.cn.", "127.0.0.1", "app.cqnews.net"]
)
def test_allowlist_matches_domain_and_subdomains(host):
    assert is_allowed_host(host, ALLOWED)


@pytest.mark.parametrize("host", ["www.taobao.com", "gov.cn.example.com", "evilgov.cn", "gov.com", "127.0.0.2"])
def test_allowlist_rejects_lookalikes(host):
    assert not is_allowed_host(host, ALLOWED)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.cq.gov.cn/zwgk/zfxxgkml/szfwj/qtgw/202001/t20200117_4587651.html",
        "https://www.gov.cn:443/zhengce/content/2019-05/06/content_5388879.htm",
        "/content/2023/12/01/content_123.html",
        "../images/logo.png",
        "#section2",
        "mailto:bgt@cq.gov.cn",
        "tel:023-63851234",
        "",
    ],
)
def test_allowed_or_hostless_links_are_not_external(url):
    assert external_host(url, ALLOWED) is None


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://item.taobao.com/item.htm?id=123", "item.taobao.com"),
        ("//cdn.example.com/a.js", "cdn.example.com"),
        ("www.taobao.com", "www.taobao.com"),
        ("HTTP://WWW.TAOBAO.COM/", "www.taobao.com"),
        ("http://www.gov.cn@evil.com/", "evil.com"),
        ("http://evil.com\\@www.gov.cn/", "evil.com"),
        ("http:/evil.com/x", "evil.com"),
        ("https:///evil.com", "evil.com"),
        ("http://ev\til.com", "evil.com"),
        ("http://gov.cn.evil.com/", "gov.cn.evil.com"),
        ("ftp://files.example.com/a.zip", "files.example.com"),
    ],
)
def test_external_host_is_read_like_a_browser(url, host):
    assert external_host(url, ALLOWED) == host


def test_unparseable_absolute_url_is_reported_not_let_through():
    assert external_host("http://[www.gov.cn", ALLOWED) == "http://[www.gov.cn"


def test_bare_urls_in_text_stop_at_chinese_and_trailing_punctuation():
    text = "详情请访问www.taobao.com/shop?id=1，或登录https://www.cq.gov.cn/。也可查看（http://a.example.com/x）."
    spans = [text[s:e] for s, e in find_urls(text)]
    assert spans == ["www.taobao.com/shop?id=1", "https://www.cq.gov.cn/", "http://a.example.com/x"]


def test_text_urls_not_glued_to_other_words():
    assert find_urls("contact@www.example.com abc.www.example.com") == []


def test_external_links_in_text_with_positions():
    text = "更多信息见http://www.cq.gov.cn/zwgk/，网购请上ｗｗｗ．ｔａｏｂａｏ．ｃｏｍ。"
    found = find_external_links(text, "summary", ALLOWED)
    assert [(f.text, f.attribute) for f in found] == [("ｗｗｗ．ｔａｏｂａｏ．ｃｏｍ", None)]
    assert text[found[0].start : found[0].end] == found[0].text
    assert "www.taobao.com" in found[0].message


def test_attribute_links_are_findings_and_an_anchor_showing_its_url_is_reported_once():
    html = (
        '<p>政策原文：<a href="http://www.gov.cn/zhengce/content_5388879.htm">国务院文件</a></p>'
        '<p>购买：<a href="https://www.taobao.com/">https://www.taobao.com/</a></p>'
        '<p>店铺：<a href="https://shop.jd.com/1">京东店铺</a><img src="https://img.alicdn.com/x.jpg"></p>'
    )
    body = extract_body(html)
    found = find_external_links(body.text, "body", ALLOWED, body.links)
    summary = sorted((f.start, f.text, f.attribute) for f in found)
    assert [(t, a) for _, t, a in summary] == [
        ("https://www.taobao.com/", None),
        ("https://shop.jd.com/1", "href"),
        ("https://img.alicdn.com/x.jpg", "src"),
    ]
    jd = next(f for f in found if f.attribute == "href")
    assert body.text[jd.start : jd.end] == "京东店铺"
