"""The content gates end to end: `check_item` on realistic government items."""

import os

import pytest

from pipeline.config import Settings
from pipeline.gates import Finding, GateConfig, SensitiveWordMatcher, check_item, extract_body


def make_id(first17: str) -> str:
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


@pytest.fixture(scope="module")
def config() -> GateConfig:
    return GateConfig.from_settings(Settings(sensitive_words_file=None, link_allowlist="gov.cn,localhost"))


POLICY_TITLE = "重庆市人民政府办公厅关于印发重庆市进一步优化营商环境若干措施的通知"
POLICY_SUMMARY = "渝府办发〔2019〕64号 索引号：008282882/2016-00712 成文日期：2019-05-20"
POLICY_BODY = """
<table class="xxgk"><tr><td>索引号：</td><td>008282882/2016-00712</td>
<td>发布机构：</td><td>重庆市人民政府办公厅</td></tr>
<tr><td>文号：</td><td>渝府办发〔2019〕64号</td><td>成文日期：</td><td>2019-05-20</td></tr></table>
<p>各区县（自治县）人民政府，市政府各部门，有关单位：</p>
<p>《重庆市进一步优化营商环境若干措施》已经市政府同意，现印发给你们，请认真贯彻执行。</p>
<p>一、推行“最多跑一次”改革。企业开办时间压缩至3个工作日以内，不动产登记一般登记业务办理时间压缩至5个工作日以内。</p>
<p>二、政府采购项目采用经评审的最低价中标办法的，应当在采购文件中载明。</p>
<p>附件：<a href="http://www.cq.gov.cn/zwgk/zfxxgkml/szfwj/qtgw/201905/W020190524123456.pdf">重庆市进一步优化营商环境若干措施</a></p>
<p style="text-align:right">重庆市人民政府办公厅<br>2019年5月20日</p>
<p>（此件公开发布）</p>
<p>联系电话：023-63851234</p>
"""

NEWS_TITLE = "我市12345热线2023年受理群众诉求超600万件"
NEWS_SUMMARY = "全年共受理各类诉求6021453件，按时办结率99.2%。"
NEWS_BODY = """
<p>记者从市政府办公厅获悉，2023年，12345政务服务便民热线共受理各类诉求6021453件，
同比增长12.6%，按时办结率99.2%，群众满意率97.85%。</p>
<p>热线24小时人工服务，市民也可拨打023-12345或通过“渝快办”APP反映诉求。</p>
<p><img src="/images/2024/01/15/hotline.jpg" alt="12345热线工作现场"></p>
<p>（记者 李某某）</p>
"""


def assert_positions(findings: list[Finding], title: str, summary: str, body_html: str) -> None:
    texts = {"title": title, "summary": summary, "body": extract_body(body_html).text}
    for f in findings:
        if f.attribute is None:
            assert texts[f.field][f.start : f.end] == f.text, f


def test_policy_document_with_document_number_and_index_passes(config):
    assert check_item(POLICY_TITLE, POLICY_SUMMARY, POLICY_BODY, config) == []


def test_news_with_hotline_and_landline_passes(config):
    assert check_item(NEWS_TITLE, NEWS_SUMMARY, NEWS_BODY, config) == []


def test_news_leaking_personal_data_is_blocked_with_positions(config):
    id_number = make_id("50010619781103421")
    body = NEWS_BODY + f"<p>来电人刘某（身份证号{id_number}，手机139 8765 4321）反映……</p>"
    findings = check_item(NEWS_TITLE, NEWS_SUMMARY, body, config)
    assert [(f.rule, f.field, f.text) for f in findings] == [
        ("id_card", "body", id_number),
        ("mobile", "body", "139 8765 4321"),
    ]
    assert_positions(findings, NEWS_TITLE, NEWS_SUMMARY, body)


def test_advertorial_is_blocked_on_every_rule_and_sorted_by_field_then_position(config):
    title = "限时抢购！六合彩内部资料"
    summary = "加微信13823456789领取优惠券"
    body = (
        '<p>全网最低价，<a href="https://item.taobao.com/item.htm?id=6612345">点击购买</a></p>'
        "<p>另有代开发票、办证刻章业务，详询www.example.com。</p>"
        '<p>政策解读见<a href="https://www.gov.cn/zhengce/">中国政府网</a></p>'
    )
    findings = check_item(title, summary, body, config)
    got = [(f.field, f.rule, f.text) for f in findings]
    assert got == [
        ("title", "ad_phrase", "限时抢购"),
        ("title", "sensitive_word", "六合彩"),
        ("summary", "ad_phrase", "加微信"),
        ("summary", "mobile", "13823456789"),
        ("summary", "ad_phrase", "优惠券"),
        ("body", "ad_phrase", "全网最低价"),
        ("body", "ad_phrase", "点击购买"),  # same span as the link; ties sort by rule name
        ("body", "external_link", "https://item.taobao.com/item.htm?id=6612345"),
        ("body", "sensitive_word", "代开发票"),
        ("body", "sensitive_word", "办证刻章"),
        ("body", "external_link", "www.example.com"),
    ]
    assert_positions(findings, title, summary, body)
    link = findings[7]
    assert link.attribute == "href" and extract_body(body).text[link.start : link.end] == "点击购买"


def test_long_digit_run_in_an_allowlisted_url_is_not_a_bank_card(config):
    # 19-digit snowflake ids in CMS page addresses pass Luhn one time in ten.
    page_id = next(
        n for n in (f"161234567890123{i:04d}" for i in range(100))
        if sum(sum(divmod(int(c) * (1 + k % 2), 10)) for k, c in enumerate(reversed(n))) % 10 == 0
    )
    summary = f"原文链接：https://www.cq.gov.cn/zwgk/art/{page_id}.html"
    assert check_item("通知", summary, "", config) == []
    assert [f.rule for f in check_item("通知", f"卡号{page_id}", "", config)] == ["bank_card"]


def test_findings_are_frozen(config):
    [finding] = check_item("六合彩", "", "", config)
    with pytest.raises(Exception):
        finding.start = 3  # type: ignore[misc]
    assert finding.model_dump() == {
        "rule": "sensitive_word",
        "field": "title",
        "text": "六合彩",
        "start": 0,
        "end": 3,
        "message": "敏感词“六合彩” (prohibited term) must not be published",
        "attribute": None,
    }


def test_settings_word_file_replaces_the_default_and_allowlist_comes_from_settings(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("# 本地词表\n测试违禁词\n", encoding="utf-8")
    settings = Settings(sensitive_words_file=words, link_allowlist="gov.cn, cqnews.net ")
    config = GateConfig.from_settings(settings)
    # the kitchen's own host (public_base_url) is always allowed: items link to our portal pages
    assert config.allowed_domains == ("gov.cn", "cqnews.net", "127.0.0.1")
    findings = check_item("测试违禁词与六合彩", "", '<a href="https://app.cqnews.net/a">华龙网</a>', config)
    assert [(f.rule, f.text) for f in findings] == [("sensitive_word", "测试违禁词")]


def test_matcher_is_cached_and_rebuilt_when_the_file_changes(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("甲词\n", encoding="utf-8")
    settings = Settings(sensitive_words_file=words)
    first = GateConfig.from_settings(settings).words
    assert GateConfig.from_settings(settings).words is first
    words.write_text("甲词\n乙词\n", encoding="utf-8")
    stat = words.stat()
    os.utime(words, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = GateConfig.from_settings(settings).words
    assert second is not first and len(second) == 2


def test_missing_configured_word_file_fails_loudly(tmp_path):
    with pytest.raises(FileNotFoundError):
        GateConfig.from_settings(Settings(sensitive_words_file=tmp_path / "missing.txt"))


def test_config_can_be_built_by_hand_for_callers_without_settings():
    config = GateConfig(
        words=SensitiveWordMatcher(["冰毒"]),
        ad_phrases=SensitiveWordMatcher([]),
        allowed_domains=("gov.cn",),
    )
    findings = check_item("", "", "<p>查获冰毒</p><p>http://www.taobao.com</p>", config)
    assert [f.rule for f in findings] == ["sensitive_word", "external_link"]
