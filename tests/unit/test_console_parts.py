"""The console's pure parts: the revision diff, gate findings cut into marked pieces, the editor form."""

from datetime import date, datetime

import pytest
from starlette.datastructures import FormData

from pipeline.console.diffs import body_lines, revision_diff
from pipeline.console.forms import read_fields, to_create, to_update
from pipeline.console.gate_marks import mark
from pipeline.errors import Invalid
from pipeline.gates.findings import Finding
from pipeline.store.models import ItemRevision


def revision(**fields) -> ItemRevision:
    base = {"item_id": 1, "number": 1, "title": "关于做好冬季供暖保障工作的通知", "summary": "保障供暖。",
            "body_html": "<p>各区县：</p><p>请做好供暖。</p><p>特此通知。</p>", "issuer": "重庆市人民政府办公厅",
            "author_id": 1, "doc_no": "渝府办发〔2026〕3号", "keywords": ["供暖"], "columns": ["tzgg"]}
    return ItemRevision(**(base | fields))


def test_an_unchanged_revision_has_no_diff():
    assert revision_diff(revision(), revision(number=2)) == []


def test_changed_fields_and_body_lines_are_diffed_character_by_character():
    old = revision()
    new = revision(number=2, doc_no="渝府办发〔2026〕4号",
                   body_html="<p>各区县：</p><p>请认真做好供暖。</p><p>特此通知。</p><p>附件：名单</p>")
    diff = {d.label: d for d in revision_diff(old, new)}
    assert set(diff) == {"文号", "正文"}
    assert diff["文号"].lines[0].segments == [("same", "渝府办发〔2026〕"), ("del", "3"), ("ins", "4"), ("same", "号")]
    kinds = [line.kind for line in diff["正文"].lines]
    assert kinds == ["same", "mod", "same", "ins"]
    assert ("ins", "认真") in diff["正文"].lines[1].segments


def test_long_unchanged_runs_collapse_around_a_change():
    paragraphs = [f"<p>第{i}段。</p>" for i in range(20)]
    changed = paragraphs[:10] + ["<p>第10段（已修改）。</p>"] + paragraphs[11:]
    lines = revision_diff(revision(body_html="".join(paragraphs)), revision(body_html="".join(changed)))[0].lines
    assert [line.kind for line in lines] == ["gap", "same", "same", "mod", "same", "same", "gap"]
    assert "8 行未改动" in lines[0].segments[0][1] and "7 行未改动" in lines[-1].segments[0][1]


def test_body_lines_break_after_block_elements():
    assert body_lines("<h2>一、</h2><p>甲<br>乙</p><ul><li>丙</li></ul>") == ["<h2>一、</h2>", "<p>甲<br>", "乙</p>",
                                                                        "<ul><li>丙</li>", "</ul>"]


def finding(rule: str, start: int, end: int, text: str) -> Finding:
    return Finding(rule=rule, field="body", text=text, start=start, end=end, message="m")


def test_findings_cut_the_text_into_marked_pieces():
    text = "请致电13800138000或访问外站。"
    f1 = finding("mobile", 3, 14, "13800138000")
    f2 = finding("external_link", 17, 19, "外站")
    pieces = mark(text, [f2, f1])
    assert [(p.text, p.finding.rule if p.finding else None) for p in pieces] == [
        ("请致电", None), ("13800138000", "mobile"), ("或访问", None), ("外站", "external_link"), ("。", None)]
    assert "".join(p.text for p in pieces) == text


def test_overlapping_and_empty_findings_keep_the_text_whole():
    text = "甲乙丙丁戊"
    pieces = mark(text, [finding("sensitive_word", 1, 4, "乙丙丁"), finding("ad_phrase", 2, 3, "丙"),
                         finding("external_link", 4, 4, "")])
    assert "".join(p.text for p in pieces) == text
    assert [p.text for p in pieces if p.finding] == ["乙丙丁", ""]


def form(*pairs) -> FormData:
    return FormData(list(pairs))


DEFAULTS = ["cq-portal", "cq-wechat"]


def test_the_editor_form_becomes_an_item_create():
    values = read_fields(form(("title", " 标题 "), ("kind", "policy"), ("body", "<p>正文</p>\r\n<p>二</p>"),
                              ("keywords", "供暖、民生, 冬季  保障"), ("written_date", "2026-11-02"),
                              ("publish_at", "2026-11-03T08:30"), ("columns", "tzgg"),
                              ("targets", "cq-wechat"), ("targets", "cq-portal"), ("interprets", "7")), DEFAULTS)
    assert values["body"] == "<p>正文</p>\n<p>二</p>"
    assert values["keywords"] == ["供暖", "民生", "冬季", "保障"]
    assert values["targets"] is None  # exactly the unit's defaults: follow them
    assert values["interprets"] is None  # only an interpretation interprets
    assert values["publish_at"] == datetime.fromisoformat("2026-11-03T08:30:00+08:00")
    create = to_create(values)
    assert create.title == "标题" and create.written_date == date(2026, 11, 2) and create.columns == ["tzgg"]


def test_bad_form_values_are_explained_in_chinese():
    with pytest.raises(Invalid, match="至少选择一个发布渠道"):
        read_fields(form(("title", "t"), ("body", "b")), DEFAULTS)
    with pytest.raises(Invalid, match="成文日期"):
        read_fields(form(("written_date", "2026-13-01"), ("targets", "x")), DEFAULTS)
    with pytest.raises(Invalid, match="标题"):
        to_create(read_fields(form(("title", "长" * 201), ("body", "b"), ("kind", "news"), ("targets", "x")), DEFAULTS))


def test_a_revision_sends_only_what_changed():
    from schemas.api import ItemPublic

    current = ItemPublic.model_validate({
        "id": 1, "status": "draft", "review_level": None, "review_level_name": None, "revision": 1,
        "approved_revision": None, "published_revision": None, "kind": "news", "unit": "cq", "index_no": "x",
        "title": "标题", "subtitle": None, "summary": "", "body": "<p>正文</p>", "language": "zh-CN",
        "issuer": "办公厅",
        "doc_no": None, "written_date": "2026-11-02", "published_at": None, "publish_at": None, "keywords": [],
        "topic_category": None, "columns": [], "targets": None, "cover": None, "canonical_url": None,
        "interprets": None, "interpretations": [], "republished_from": None, "correction_note": None,
        "rejection_reason": None, "author": "editor", "created_at": "2026-11-02T00:00:00Z",
        "updated_at": "2026-11-02T00:00:00Z", "reviews": []})
    fields = form(("title", "标题"), ("kind", "news"), ("body", "<p>正文</p>"), ("written_date", "2026-11-02"),
                  ("targets", "cq-portal"), ("targets", "cq-wechat"))
    same = read_fields(fields, DEFAULTS)
    with pytest.raises(Invalid, match="没有任何修改"):
        to_update(same, current)
    changed = to_update(same | {"summary": "新摘要", "targets": ["cq-portal"]}, current)
    assert changed.model_dump(exclude_unset=True) == {"summary": "新摘要", "targets": ["cq-portal"]}
