"""ninjs 2.2: IPTC's examples validate, our items convert faithfully, broken documents fail."""

import copy
import json
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

from schemas.item import ItemSnapshot
from schemas.ninjs import (
    NINJS_SCHEMA,
    NinjsValidationError,
    PubStatus,
    to_ninjs,
    validate_ninjs,
)

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = sorted((DATA / "ninjs-2.2-examples").glob("*.json"))
MEDIA_BASE = "https://ck.example.gov.cn"
COVER = "42f337fea9882dd6e5f7035fb6b3ba476f8ee11f06e3d1e5bf93199049a9262e"
FIGURE = "9f407de54236381a8d1dea8647fb2da181bf1d84d70ed6243ce3759f8c716a38"


def policy_item(**changes: object) -> ItemSnapshot:
    """渝府办发〔2019〕64号, revision 2 with a correction note, two images and an interpretation."""
    item = ItemSnapshot.model_validate_json((DATA / "items" / "policy_item_zh.json").read_bytes())
    return item.model_copy(update=changes)


def by_role(entries: list[dict], role: str) -> list[str]:
    return [e["value"] for e in entries if e.get("role") == role]


# -- the schema and IPTC's own examples ---------------------------------------------------------


def test_schema_is_the_iptc_2_2_schema_under_draft_2020_12():
    assert NINJS_SCHEMA["$id"] == "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#"
    assert NINJS_SCHEMA["title"] == "IPTC ninjs - News in JSON - version 2.2"
    assert validator_for(NINJS_SCHEMA) is Draft202012Validator


def test_all_iptc_examples_are_present():
    assert [p.name for p in EXAMPLES] == [
        "001_simple_example.json",
        "002_renditions_example.json",
        "003_associations_example.json",
        "004_simple_text_article.json",
        "005_complex_text_article.json",
        "006_photo_only.json",
        "007_multimedia.json",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_iptc_example_validates(path: Path):
    validate_ninjs(json.loads(path.read_text(encoding="utf-8")))


# -- converting a Chinese policy item -----------------------------------------------------------


def test_policy_item_converts_and_validates():
    doc = to_ninjs(policy_item(), media_base_url=MEDIA_BASE)
    validate_ninjs(doc)
    validate_ninjs(json.loads(json.dumps(doc, ensure_ascii=False)))  # survives the wire as is


def test_policy_item_identity_and_dates():
    doc = to_ninjs(policy_item())
    assert doc["uri"] == "urn:ck:item:1024"
    assert doc["type"] == "text"
    assert doc["version"] == "2"
    assert doc["pubstatus"] == "usable"
    assert doc["language"] == "zh-CN"
    assert doc["firstcreated"] == "2019-07-02T09:30:00+08:00"
    assert doc["versioncreated"] == "2019-07-03T16:05:00+08:00"
    assert doc["contentcreated"] == "2019-06-28T00:00:00+08:00"  # 成文日期
    assert doc["standard"] == {
        "name": "ninjs",
        "version": "2.2",
        "schema": "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#",
    }


def test_policy_item_text():
    item = policy_item()
    doc = to_ninjs(item)
    assert by_role(doc["headlines"], "main") == [item.title]
    assert by_role(doc["headlines"], "sub") == [item.subtitle]
    assert by_role(doc["descriptions"], "summary") == [item.summary]
    assert by_role(doc["descriptions"], "correction") == [
        "2019年7月3日更正：第三条中“30个工作日”更正为“20个工作日”。"
    ]
    assert doc["bodies"] == [{"role": "main", "contenttype": "text/html", "value": item.body_html}]
    assert doc["by"] == "市政府办公厅"
    assert doc["genres"] == [{"name": "政策文件", "literal": "policy"}]


def test_policy_item_identifiers_and_sources():
    doc = to_ninjs(policy_item())
    assert doc["altids"] == [
        {"role": "index_no", "value": "008282882/2016-00712"},
        {"role": "doc_no", "value": "渝府办发〔2019〕64号"},
    ]
    assert doc["infosources"] == [
        {"name": "重庆市人民政府办公厅", "role": "issuer"},
        {"name": "重庆市人民政府办公厅", "literal": "cq-gov-office", "role": "unit"},
    ]
    assert doc["subjects"] == [
        {"name": "政务公开", "rel": "keyword"},
        {"name": "政府信息", "rel": "keyword"},
        {"name": "通知", "rel": "keyword"},
        {"name": "综合政务/政务公开", "rel": "topic-category"},
        {"literal": "zfxxgk-zcwj", "rel": "column"},
        {"literal": "szfbgt-wj", "rel": "column"},
    ]


def test_canonical_url_is_the_canonical_rendition():
    doc = to_ninjs(policy_item())
    assert doc["renditions"] == [
        {
            "name": "canonical",
            "href": "https://www.cq.gov.cn/zwgk/zfxxgkml/szfwj/qtgw/201907/t20190702_1024.html",
            "contenttype": "text/html",
        }
    ]


def test_images_become_picture_associations_with_absolute_hrefs():
    doc = to_ninjs(policy_item(), media_base_url=MEDIA_BASE + "/")
    cover, figure = doc["associations"][:2]
    assert cover == {
        "name": "cover",
        "uri": f"urn:ck:media:{COVER}",
        "type": "picture",
        "descriptions": [{"role": "alt", "contenttype": "text/plain", "value": "政务公开工作流程图"}],
        "renditions": [
            {
                "name": "original",
                "contenttype": "image/jpeg",
                "sizeinbytes": 184233,
                "href": f"https://ck.example.gov.cn/media/{COVER}",
                "width": 1280,
                "height": 720,
                "title": "政务公开工作流程图.jpg",
            }
        ],
    }
    assert figure["name"] == "media"
    assert figure["renditions"][0]["href"] == f"https://ck.example.gov.cn/media/{FIGURE}"
    assert figure["renditions"][0]["contenttype"] == "image/png"


def test_without_a_media_base_url_images_carry_no_href_and_stay_valid():
    doc = to_ninjs(policy_item())
    validate_ninjs(doc)
    media = [a for a in doc["associations"] if a["uri"].startswith("urn:ck:media:")]
    assert len(media) == 2
    assert all("href" not in a["renditions"][0] for a in media)


def test_interpretation_becomes_an_association_to_the_linked_item():
    doc = to_ninjs(policy_item())
    assert doc["associations"][-1] == {
        "name": "interpretation",
        "uri": "urn:ck:item:1031",
        "type": "text",
        "headlines": [
            {
                "role": "main",
                "contenttype": "text/plain",
                "value": "图解：《关于进一步加强政务公开工作的通知》",
            }
        ],
        "renditions": [
            {
                "name": "canonical",
                "href": "https://www.cq.gov.cn/zwgk/zcjd/201907/t20190703_1031.html",
                "contenttype": "text/html",
            }
        ],
    }


def test_minimal_item_omits_empty_fields():
    item = policy_item(
        subtitle=None,
        summary="",
        author="",
        doc_no=None,
        written_date=None,
        keywords=[],
        topic_category=None,
        columns=[],
        media=[],
        cover=None,
        related=[],
        correction_note=None,
    )
    doc = to_ninjs(item)
    validate_ninjs(doc)
    for absent in ("descriptions", "by", "subjects", "associations", "contentcreated"):
        assert absent not in doc
    assert doc["altids"] == [{"role": "index_no", "value": "008282882/2016-00712"}]
    assert len(doc["headlines"]) == 1


@pytest.mark.parametrize("status", [PubStatus.withheld, PubStatus.canceled])
def test_takedown_variant_validates(status: PubStatus):
    doc = to_ninjs(policy_item(), pubstatus=status, media_base_url=MEDIA_BASE)
    validate_ninjs(doc)
    assert doc["pubstatus"] == status.value


def test_relative_canonical_url_is_refused():
    with pytest.raises(ValueError, match="canonical_url must be an absolute URL"):
        to_ninjs(policy_item(canonical_url="/zwgk/1024.html"))


def test_relative_media_base_url_is_refused():
    with pytest.raises(ValueError, match="media_base_url"):
        to_ninjs(policy_item(), media_base_url="/static")


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="published_at must be timezone-aware"):
        to_ninjs(policy_item(published_at=datetime(2019, 7, 2, 9, 30)))


# -- broken documents fail, with a path a person can follow ------------------------------------

BROKEN = [
    pytest.param([], "$", "is not of type 'object'", id="not-an-object"),
    pytest.param({"type": "text"}, "$", "'uri' is a required property", id="no-uri"),
    pytest.param({"uri": 7}, "$.uri", "7 is not of type 'string'", id="uri-not-string"),
    pytest.param(
        {"uri": "x", "keywords": ["政务公开"]},
        "$",
        "'keywords' was unexpected",
        id="no-keywords-in-2.2",
    ),
    pytest.param({"uri": "x", "links": []}, "$", "'links' was unexpected", id="no-links-in-2.2"),
    pytest.param({"uri": "x", "type": "story"}, "$.type", "'story' is not one of", id="bad-type"),
    pytest.param(
        {"uri": "x", "pubstatus": "deleted"},
        "$.pubstatus",
        "'deleted' is not one of",
        id="bad-status",
    ),
    pytest.param(
        {"uri": "x", "headline": "标题"},
        "$",
        "'headline' was unexpected",
        id="headline-not-headlines",
    ),
    pytest.param(
        {"uri": "x", "headlines": "标题"},
        "$.headlines",
        "is not of type 'array'",
        id="headlines-string",
    ),
    pytest.param(
        {"uri": "x", "headlines": [{"role": "main"}]},
        "$.headlines[0]",
        "'value' is a required property",
        id="headline-without-value",
    ),
    pytest.param(
        {"uri": "x", "bodies": [{"value": "<p/>", "contentType": "text/html"}]},
        "$.bodies[0]",
        "'contentType' was unexpected",
        id="body-misspelt-key",
    ),
    pytest.param(
        {"uri": "x", "altids": [{"role": "doc_no", "value": 64}]},
        "$.altids[0].value",
        "64 is not of type 'string'",
        id="altid-not-string",
    ),
    pytest.param(
        {"uri": "x", "versioncreated": "2019-07-02 09:30"},
        "$.versioncreated",
        "is not a 'date-time'",
        id="date-time-without-offset",
    ),
    pytest.param(
        {"uri": "x", "firstcreated": "2019-13-02T09:30:00+08:00"},
        "$.firstcreated",
        "is not a 'date-time'",
        id="date-time-month-13",
    ),
    pytest.param(
        {"uri": "x", "renditions": [{"href": "https://a.example/1.jpg"}]},
        "$.renditions[0]",
        "'name' is a required property",
        id="rendition-without-name",
    ),
    pytest.param(
        {"uri": "x", "associations": [{"name": "cover"}]},
        "$.associations[0]",
        "'uri' is a required property",
        id="association-without-uri",
    ),
    pytest.param(
        {"uri": "x", "associations": [{"name": "cover", "uri": "y", "href": "z"}]},
        "$.associations[0]",
        "'href' was unexpected",
        id="association-unknown-key",
    ),
    pytest.param(
        {"uri": "x", "associations": [{"name": "a", "uri": "y", "headlines": [{}]}]},
        "$.associations[0].headlines[0]",
        "'value' is a required property",
        id="nested-headline",
    ),
    pytest.param(
        {"uri": "x", "subjects": [{"name": "s", "relevance": 101}]},
        "$.subjects[0].relevance",
        "101 is greater than the maximum of 100",
        id="relevance-range",
    ),
]


@pytest.mark.parametrize(("doc", "path", "message"), BROKEN)
def test_broken_document_fails_with_path(doc: object, path: str, message: str):
    with pytest.raises(NinjsValidationError) as caught:
        validate_ninjs(doc)
    assert caught.value.path == path
    assert message in caught.value.message
    assert str(caught.value).startswith(f"ninjs 2.2 invalid at {path}: ")


def test_breaking_a_converted_item_is_caught():
    doc = to_ninjs(policy_item())
    broken = copy.deepcopy(doc)
    broken["altids"][1]["value"] = None
    with pytest.raises(NinjsValidationError, match=r"\$\.altids\[1\]\.value: None is not of type"):
        validate_ninjs(broken)
    broken = copy.deepcopy(doc)
    broken["associations"][0]["renditions"][0]["width"] = "1280px"
    with pytest.raises(NinjsValidationError) as caught:
        validate_ninjs(broken)
    assert caught.value.path == "$.associations[0].renditions[0].width"


def test_validation_error_is_a_value_error_with_a_short_message():
    with pytest.raises(ValueError) as caught:
        validate_ninjs({"uri": "x", "bodies": [{"value": 1, "role": "正文" * 99}], "by": ["a"] * 999})
    assert isinstance(caught.value, NinjsValidationError)
    assert len(caught.value.message) <= 300


def test_geojson_is_checked_without_the_network(monkeypatch: pytest.MonkeyPatch):
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation must not fetch anything")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    point = {"type": "Point", "coordinates": [106.55, 29.56]}
    validate_ninjs({"uri": "x", "places": [{"name": "重庆", "geojson": point}]})
    with pytest.raises(NinjsValidationError) as caught:
        validate_ninjs({"uri": "x", "places": [{"name": "重庆", "geojson": {"type": "Town"}}]})
    assert caught.value.path == "$.places[0].geojson.type"
