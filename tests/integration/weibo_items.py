"""Realistic items for the Weibo tests: a long-titled policy 解读, an emergency notice, a news item
with a cover photo. Canonical URLs are on the city portal, the Weibo app's safe domain."""

import hashlib
import io
from datetime import datetime, timedelta, timezone

from PIL import Image

from connectors.portal.urls import article_url
from schemas.item import ItemKind, ItemSnapshot, MediaRef, UnitRef

PORTAL = "https://www.binjiang.gov.cn"
SAFE_DOMAIN = "binjiang.gov.cn"
BEIJING = timezone(timedelta(hours=8))
UNIT = UnitRef(code="11330100MB0000001X", name="滨江市人民政府办公室")

POLICY_TITLE = "一图读懂《滨江市关于进一步优化营商环境降低市场主体制度性交易成本若干措施（2025年修订）》"
POLICY_SUMMARY = (
    "为深入贯彻落实国务院关于优化营商环境的决策部署，进一步降低市场主体制度性交易成本，"
    "市政府办公室近日印发《若干措施》，从精简审批事项、压缩办理时限、推行“一网通办”、"
    "规范涉企收费、加强惠企政策直达等五个方面提出二十三条具体举措。本文以图解形式，"
    "对措施出台的背景、主要内容、适用对象和办理渠道逐一解读，方便企业和群众查询使用。"
)


def make_item(
    item_id: int = 1024,
    *,
    kind: ItemKind = ItemKind.interpretation,
    title: str = POLICY_TITLE,
    summary: str = POLICY_SUMMARY,
    body_html: str = "<p>全文见附件。</p>",
    column: str = "zcjd",
    portal: str = PORTAL,
    media: list[MediaRef] | None = None,
    cover: str | None = None,
    revision: int = 1,
    correction_note: str | None = None,
) -> ItemSnapshot:
    published = datetime(2025, 3, 14, 9, 30, tzinfo=BEIJING)
    return ItemSnapshot(
        id=item_id,
        revision=revision,
        kind=kind,
        title=title,
        summary=summary,
        body_html=body_html,
        unit=UNIT,
        issuer="滨江市人民政府办公室",
        index_no=f"11330100MB0000001X/2025-{item_id:05d}",
        published_at=published,
        updated_at=published + timedelta(hours=revision - 1),
        canonical_url=article_url(portal, "main", column, published, item_id),
        media=media or [],
        cover=cover,
        correction_note=correction_note,
    )


def policy_interpretation(item_id: int = 1024, **overrides) -> ItemSnapshot:
    return make_item(item_id, **overrides)


def emergency_notice(item_id: int = 2048, **overrides) -> ItemSnapshot:
    return make_item(
        item_id,
        kind=ItemKind.emergency,
        title="关于防范今明两天强降雨引发山洪地质灾害的紧急通知",
        summary=(
            "据市气象台预报，今天夜里到明天白天我市大部地区有大到暴雨，局部大暴雨。"
            "请沿江、山区群众远离河道、陡坡和危旧房屋，非必要不外出；如遇险情请拨打110或12345求助。"
        ),
        column="yjgl",
        **overrides,
    )


def jpeg_bytes(width: int = 640, height: int = 360, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="JPEG", quality=85)
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (30, 90, 200, 255)).save(out, format="PNG")
    return out.getvalue()


def cover_ref(data: bytes, mime: str = "image/jpeg", alt: str = "新闻发布会现场") -> MediaRef:
    return MediaRef(sha256=hashlib.sha256(data).hexdigest(), mime=mime, size=len(data), alt=alt)


def news_with_cover(cover_data: bytes, item_id: int = 4096, **overrides) -> ItemSnapshot:
    ref = cover_ref(cover_data)
    return make_item(
        item_id,
        kind=ItemKind.news,
        title="我市召开2025年一季度经济运行情况新闻发布会",
        summary="一季度全市地区生产总值同比增长5.6%，规模以上工业增加值增长7.1%，社会消费品零售总额增长4.8%。",
        column="xwfb",
        media=[ref],
        cover=ref.sha256,
        **overrides,
    )
