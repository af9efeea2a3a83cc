"""Dictionary matching: word-list loading, Aho-Corasick matching, and the packaged lists."""

import pytest

from pipeline.gates import (
    DEFAULT_AD_PHRASES_FILE,
    DEFAULT_WORDS_FILE,
    SensitiveWordMatcher,
    find_ad_phrases,
    find_sensitive_words,
    load_words,
)


def test_load_words_skips_comments_blank_lines_and_whitespace(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\ufeff# 词表\n\n六合彩\n  冰毒  \n# 注释行\n代开发票\n\n", encoding="utf-8")
    assert load_words(path) == ["六合彩", "冰毒", "代开发票"]


def test_find_returns_positions_of_every_occurrence():
    matcher = SensitiveWordMatcher(["六合彩", "冰毒"])
    text = "警方提醒：六合彩是赌博，冰毒是毒品，六合彩不可信。"
    hits = matcher.find(text)
    assert [(text[s:e], w) for s, e, w in hits] == [("六合彩", "六合彩"), ("冰毒", "冰毒"), ("六合彩", "六合彩")]
    assert [s for s, _, _ in hits] == [5, 12, 18]


def test_overlapping_words_resolve_leftmost_longest():
    matcher = SensitiveWordMatcher(["赌博", "网络赌博", "赌博平台", "代开", "代开发票", "发票"])
    text = "取缔网络赌博平台，严禁代开发票。"
    assert [text[s:e] for s, e, _ in matcher.find(text)] == ["网络赌博", "代开发票"]


def test_matching_ignores_ascii_case_and_full_width():
    matcher = SensitiveWordMatcher(["K粉"])
    text = "查获k粉和Ｋ粉各一包"
    assert [(text[s:e], w) for s, e, w in matcher.find(text)] == [("k粉", "K粉"), ("Ｋ粉", "K粉")]


def test_offsets_count_characters_not_bytes_even_after_emoji():
    matcher = SensitiveWordMatcher(["裸聊"])
    text = "😀👍提防裸聊敲诈"
    [(start, end, _)] = matcher.find(text)
    assert text[start:end] == "裸聊" and start == 4


def test_empty_matcher_and_empty_text_find_nothing():
    assert SensitiveWordMatcher([]).find("六合彩") == []
    assert SensitiveWordMatcher(["", "  "]).find("六合彩") == []
    assert SensitiveWordMatcher(["六合彩"]).find("") == []


def test_near_miss_is_not_a_hit():
    matcher = SensitiveWordMatcher(["六合彩"])
    assert matcher.find("六合 彩") == []
    assert matcher.find("六和彩虹") == []


@pytest.mark.parametrize("path", [DEFAULT_WORDS_FILE, DEFAULT_AD_PHRASES_FILE])
def test_packaged_lists_are_modest_and_free_of_duplicates(path):
    words = load_words(path)
    assert path.parent.name == "data" and path.parent.parent.name == "gates"
    assert 20 <= len(words) <= 80
    assert len(set(words)) == len(words)


def test_default_dictionary_contains_the_core_prohibited_terms():
    words = set(load_words(DEFAULT_WORDS_FILE))
    assert {"六合彩", "网络赌博", "代开发票", "枪支弹药", "冰毒", "办证刻章", "裸聊"} <= words
    # Terms that legitimate government text uses must stay out of the default list.
    assert not {"大麻", "洗钱", "上门服务", "消费券"} & words


def test_default_ad_phrases_contain_the_listed_examples():
    phrases = set(load_words(DEFAULT_AD_PHRASES_FILE))
    assert {"限时抢购", "扫码领取", "加微信", "全网最低价", "点击购买", "优惠券"} <= phrases
    assert "最低价" not in phrases  # 最低价中标 is ordinary procurement language


def test_default_lists_pass_ordinary_government_text():
    words = SensitiveWordMatcher(load_words(DEFAULT_WORDS_FILE))
    ads = SensitiveWordMatcher(load_words(DEFAULT_AD_PHRASES_FILE))
    text = (
        "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，市政府办公厅印发通知，"
        "采用经评审的最低价中标方式开展政府采购，向困难群众发放消费券，并为高龄老人提供上门服务。"
        "市公安局开展反洗钱宣传，提醒市民增强防范意识。"
    )
    assert words.find(text) == []
    assert ads.find(text) == []


def test_sensitive_word_and_ad_phrase_findings():
    words = SensitiveWordMatcher(["代开发票"])
    ads = SensitiveWordMatcher(["加微信", "优惠券"])
    text = "代开发票请加微信领取优惠券"
    found = find_sensitive_words(text, "title", words) + find_ad_phrases(text, "title", ads)
    assert [(f.rule, f.text, f.start, f.end) for f in found] == [
        ("sensitive_word", "代开发票", 0, 4),
        ("ad_phrase", "加微信", 5, 8),
        ("ad_phrase", "优惠券", 10, 13),
    ]
    assert all(text[f.start : f.end] == f.text and f.field == "title" for f in found)
    assert "代开发票" in found[0].message and "广告" in found[1].message
