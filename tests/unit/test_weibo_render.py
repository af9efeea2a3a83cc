"""Item → Weibo post text: within the share.json limit, headline whole, portal link always intact."""

import pytest

from connectors.weibo.render import CORRECTION_MARK, ELLIPSIS, EMERGENCY_MARK, render_post, weibo_length
from schemas.item import MediaRef
from tests.integration.weibo_items import (
    POLICY_SUMMARY,
    POLICY_TITLE,
    emergency_notice,
    jpeg_bytes,
    make_item,
    news_with_cover,
    policy_interpretation,
)


def test_weibo_length_counts_each_url_as_twenty():
    assert weibo_length("政务公开") == 4
    assert weibo_length("政务公开 https://www.binjiang.gov.cn/" + "a" * 200 + ".html") == 4 + 1 + 20
    assert weibo_length("两个链接 http://a.gov.cn/x https://b.gov.cn/y", url_weight=23) == 6 + 46


def test_long_policy_interpretation_fits_with_title_whole_and_summary_cut():
    item = policy_interpretation()
    status = render_post(item)["status"]

    assert weibo_length(status) == 140
    assert status.startswith(f"【{POLICY_TITLE}】")
    assert status.endswith(" " + item.canonical_url)
    summary_part = status[len(POLICY_TITLE) + 2 : -len(item.canonical_url) - 1]
    assert summary_part.endswith(ELLIPSIS)
    assert POLICY_SUMMARY.startswith(summary_part[:-1])


def test_short_item_is_not_cut():
    item = make_item(title="我市发布春季森林防火提示", summary="进入春季，请广大市民文明祭扫、严禁野外用火。")
    status = render_post(item)["status"]
    assert status == f"【我市发布春季森林防火提示】进入春季，请广大市民文明祭扫、严禁野外用火。 {item.canonical_url}"
    assert ELLIPSIS not in status


def test_emergency_notice_is_marked_without_a_hashtag():
    status = render_post(emergency_notice())["status"]
    assert status.startswith(EMERGENCY_MARK + "【关于防范今明两天强降雨引发山洪地质灾害的紧急通知】")
    assert "#" not in status
    assert weibo_length(status) <= 140


def test_correction_is_marked():
    item = policy_interpretation(revision=2, correction_note="原文第三条办理时限有误，已更正。")
    assert render_post(item)["status"].startswith(CORRECTION_MARK + "【")


def test_hash_and_at_signs_are_written_full_width_and_stray_links_dropped():
    item = make_item(
        title="#滨江发布# 关于3#楼改造的说明",
        summary="咨询请@滨江住建 或访问 http://example.com/x 查询。",
    )
    status = render_post(item)["status"]
    assert "#" not in status and "@" not in status
    assert "＃滨江发布＃" in status and "＠滨江住建" in status
    assert "example.com" not in status
    assert status.count("http") == 1


def test_empty_summary_falls_back_to_body_text():
    item = make_item(
        title="市政府常务会议研究部署安全生产工作",
        summary="",
        body_html="<p>3月13日，市长主持召开市政府常务会议。</p>\n<p>会议强调，要压紧压实安全生产责任&hellip;</p>",
    )
    status = render_post(item)["status"]
    assert "【市政府常务会议研究部署安全生产工作】3月13日，市长主持召开市政府常务会议。 会议强调" in status
    assert "<p>" not in status


def test_headline_too_long_for_the_limit_is_cut_as_last_resort():
    item = make_item(title="关于" + "进一步加强和改进" * 30 + "的通知")
    status = render_post(item)["status"]
    assert weibo_length(status) == 140
    assert status.endswith(ELLIPSIS + "】 " + item.canonical_url)


@pytest.mark.parametrize("max_chars,url_weight", [(140, 20), (100, 20), (140, 23), (60, 30)])
def test_limit_and_url_weight_are_respected(max_chars, url_weight):
    item = emergency_notice()
    status = render_post(item, max_chars=max_chars, url_weight=url_weight)["status"]
    assert weibo_length(status, url_weight) <= max_chars
    assert status.endswith(" " + item.canonical_url)


def test_cover_image_goes_along_only_when_weibo_takes_it():
    data = jpeg_bytes()
    item = news_with_cover(data)
    assert render_post(item)["pic_sha256"] == item.cover
    assert render_post(policy_interpretation())["pic_sha256"] is None

    webp = MediaRef(sha256="a" * 64, mime="image/webp", size=1000)
    assert render_post(make_item(media=[webp], cover=webp.sha256))["pic_sha256"] is None
    huge = MediaRef(sha256="b" * 64, mime="image/jpeg", size=6 * 1024 * 1024)
    assert render_post(make_item(media=[huge], cover=huge.sha256))["pic_sha256"] is None


def test_render_is_deterministic():
    assert render_post(policy_interpretation()) == render_post(policy_interpretation())
