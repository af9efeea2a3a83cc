"""Realistic items and site targets for the portal tests: a 重庆 normative policy, its 解读, 民生 news
with a photo, and plain news for long lists. No network, no mocks: real images made with Pillow."""

import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import html5lib
from PIL import Image

from connectors.portal.urls import article_url
from schemas.delivery import Channel, Target
from schemas.item import ItemKind, ItemLink, ItemSnapshot, MediaRef, RelationKind, UnitRef

CST = ZoneInfo("Asia/Shanghai")
CITY = UnitRef(code="cq", name="重庆市人民政府")
CITY_COLUMNS = {"zcwj": "政策文件", "zcjd": "政策解读", "ywdt": "要闻动态", "msxx": "民生信息"}
DISTRICT_COLUMNS = {"sjwj": "上级文件", "qxdt": "区县动态"}

POLICY_ID = 1064
INTERPRETATION_ID = 1065
NEWS_ID = 1070

POLICY_TITLE = "重庆市人民政府办公厅关于进一步加强城镇老旧小区改造工作的通知"
INTERPRETATION_TITLE = "《重庆市人民政府办公厅关于进一步加强城镇老旧小区改造工作的通知》政策解读"


def png_bytes(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def site_config(sites_dir: Path, base_url: str, **overrides) -> dict:
    config = {
        "output_dir": str(sites_dir),
        "base_url": base_url,
        "site_name": "重庆市人民政府网",
        "columns": dict(CITY_COLUMNS),
        "default_column": "ywdt",
        "site_id_code": "5000000095",
        "page_size": 20,
    }
    return config | overrides


def city_target(sites_dir: Path, base_url: str, columns: list[str], **overrides) -> Target:
    return Target(channel=Channel.portal, code="cq", name="重庆市人民政府网", unit="cq", columns=columns,
                  config=site_config(sites_dir, base_url, **overrides))


def district_target(sites_dir: Path, base_url: str, columns: list[str]) -> Target:
    config = site_config(sites_dir, base_url, site_name="重庆市渝北区人民政府网", columns=dict(DISTRICT_COLUMNS),
                         default_column="qxdt", site_id_code="5001120001")
    return Target(channel=Channel.portal, code="ybq", name="重庆市渝北区人民政府网", unit="ybq", columns=columns,
                  config=config)


def canonical(base_url: str, column: str, published_at: datetime, item_id: int) -> str:
    return article_url(base_url, "cq", column, published_at.astimezone(CST), item_id)


def policy(base_url: str, revision: int = 1, correction_note: str | None = None) -> ItemSnapshot:
    published = datetime(2019, 12, 25, 16, 30, tzinfo=CST)
    return ItemSnapshot(
        id=POLICY_ID,
        revision=revision,
        kind=ItemKind.policy,
        title=POLICY_TITLE,
        summary="推动城镇老旧小区改造，改善居民居住条件。",
        body_html=(
            "<p>各区县（自治县）人民政府，市政府各部门，有关单位：</p>"
            "<p>为贯彻落实党中央、国务院关于推进城镇老旧小区改造的决策部署，经市政府同意，现就有关事项通知如下。</p>"
            "<h2>一、总体要求</h2><p>坚持以人民为中心的发展思想，到2022年基本完成2000年底前建成的老旧小区改造任务。</p>"
            "<table><thead><tr><th>年度</th><th>改造小区（个）</th></tr></thead>"
            "<tbody><tr><td>2020</td><td>1000</td></tr><tr><td>2021</td><td>1200</td></tr></tbody></table>"
            "<p>重庆市人民政府办公厅<br>2019年12月20日</p>"
        ),
        unit=CITY,
        issuer="重庆市人民政府办公厅",
        index_no="11500000009275780L/2019-00162",
        doc_no="渝府办发〔2019〕64号",
        written_date=date(2019, 12, 20),
        published_at=published,
        updated_at=published + timedelta(days=revision - 1, hours=revision - 1),
        keywords=["城乡建设", "老旧小区", "通知"],
        topic_category="城乡建设、环境保护\\房地产业",
        columns=["zcwj"],
        canonical_url=canonical(base_url, "zcwj", published, POLICY_ID),
        related=[ItemLink(id=INTERPRETATION_ID, title=INTERPRETATION_TITLE, relation=RelationKind.interpretation,
                          url=canonical(base_url, "zcjd", published + timedelta(hours=1), INTERPRETATION_ID))],
        correction_note=correction_note,
    )


def interpretation(base_url: str) -> ItemSnapshot:
    published = datetime(2019, 12, 25, 17, 30, tzinfo=CST)
    policy_published = datetime(2019, 12, 25, 16, 30, tzinfo=CST)
    return ItemSnapshot(
        id=INTERPRETATION_ID,
        revision=1,
        kind=ItemKind.interpretation,
        title=INTERPRETATION_TITLE,
        subtitle="市住房城乡建委有关负责人答记者问",
        summary="一图读懂老旧小区改造的对象、内容和资金保障。",
        body_html="<p><strong>问：</strong>哪些小区纳入改造范围？</p><p><strong>答：</strong>2000年底前建成、失养失修失管的小区。</p>",
        unit=CITY,
        issuer="重庆市住房和城乡建设委员会",
        index_no="11500000009275780L/2019-00163",
        published_at=published,
        updated_at=published,
        keywords=["老旧小区", "解读"],
        topic_category="城乡建设、环境保护\\房地产业",
        columns=["zcjd"],
        canonical_url=canonical(base_url, "zcjd", published, INTERPRETATION_ID),
        related=[ItemLink(id=POLICY_ID, title=POLICY_TITLE, relation=RelationKind.interprets,
                          url=canonical(base_url, "zcwj", policy_published, POLICY_ID))],
    )


def livelihood_news(base_url: str, photo: bytes, photo_sha: str) -> ItemSnapshot:
    published = datetime(2020, 1, 6, 9, 15, tzinfo=CST)
    return ItemSnapshot(
        id=NEWS_ID,
        revision=1,
        kind=ItemKind.news,
        title="主城都市区新增3000个公共停车泊位 市民停车更方便",
        summary="春节前，主城都市区将新增3000个公共停车泊位。",
        body_html=(
            "<p>记者从市住房城乡建委获悉，春节前主城都市区将新增公共停车泊位3000个。</p>"
            f'<figure><img src="/media/{photo_sha}" alt="渝北区新建的立体停车楼"><figcaption>渝北区新建的立体停车楼</figcaption></figure>'
            "<p>市民可通过“渝快办”查询附近空余泊位。</p>"
        ),
        author="张晓燕",
        unit=CITY,
        issuer="重庆市住房和城乡建设委员会",
        index_no="11500000009275780L/2020-00003",
        published_at=published,
        updated_at=published,
        keywords=["停车", "民生"],
        topic_category="城乡建设、环境保护\\市政",
        columns=["msxx", "ywdt"],
        canonical_url=canonical(base_url, "msxx", published, NEWS_ID),
        media=[MediaRef(sha256=photo_sha, mime="image/png", size=len(photo), width=64, height=48,
                        alt="渝北区新建的立体停车楼")],
    )


def plain_news(base_url: str, n: int, column: str = "ywdt") -> ItemSnapshot:
    """The n-th of a run of daily news items (newer as n grows)."""
    published = datetime(2020, 3, 1, 9, 0, tzinfo=CST) + timedelta(days=n)
    item_id = 2000 + n
    return ItemSnapshot(
        id=item_id,
        revision=1,
        kind=ItemKind.news,
        title=f"重庆市第{n}次复工复产调度会召开",
        summary=f"第{n}次调度会部署重点项目复工工作。",
        body_html=f"<p>第{n}次调度会要求，统筹推进疫情防控和经济社会发展。</p>",
        unit=CITY,
        issuer="重庆市人民政府办公厅",
        index_no=f"11500000009275780L/2020-{n:05d}",
        published_at=published,
        updated_at=published,
        columns=[column],
        canonical_url=canonical(base_url, column, published, item_id),
    )


def parse_html(text: str):
    """Parse as a browser would, failing on any HTML5 parse error."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False,
                                 tree=html5lib.getTreeBuilder("etree"))
    document = parser.parse(text)
    assert parser.errors == []
    return document


def metadata(document) -> dict[str, str]:
    return {td.get("data-field"): "".join(td.itertext()) for td in document.iter("td") if td.get("data-field")}
