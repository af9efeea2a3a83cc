"""Realistic items for the WeChat tests: a Chongqing policy document (渝府办发〔2019〕64号) with the
markup editors paste in, and a news item with a cover and two inline pictures made with Pillow."""

import hashlib
import io
import random
from datetime import date, datetime, timedelta, timezone

from PIL import Image, ImageDraw

from connectors.portal.urls import article_url
from schemas.item import ItemKind, ItemSnapshot, MediaRef, UnitRef

PORTAL = "https://www.cq.gov.cn"
BEIJING = timezone(timedelta(hours=8))
UNIT = UnitRef(code="cq", name="重庆市人民政府办公厅")

POLICY_TITLE = "重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知"
LONG_TITLE = "重庆市人民政府办公厅关于印发重庆市推进政务服务“一网通办”“一窗综合受理”和“跨省通办”改革实施方案的通知"
POLICY_BODY = (
    '<p class="MsoNormal" style="text-align:left;font-family:仿宋_GB2312">各区县（自治县）人民政府，市政府各部门，有关单位：</p>'
    "<p>为深入贯彻落实《国务院办公厅关于印发政府网站发展指引的通知》要求，"
    '进一步加强我市政府网站信息内容建设，经市政府同意，现将有关事项通知如下。<span onclick="track()">（全文）</span></p>'
    "<h1>一、总体要求</h1>"
    "<p>坚持“信息同源、分发同时”，统一信息资源库，做到先审后发、三审三校。</p>"
    "<script>document.write('统计代码')</script>"
    "<h2>二、主要任务</h2>"
    "<ol><li>建立健全信息发布协调机制。</li><li>落实政务新媒体内容审核制度。</li></ol>"
    '<p>具体要求详见<a href="http://www.gov.cn/zhengce/content/2017-06/08/content_5200760.htm" target="_blank">'
    "《政府网站发展指引》</a>，解读文章见"
    '<a href="https://mp.weixin.qq.com/s/cqgov-jiedu">政策解读</a>。</p>'
    '<p style="text-align:right">重庆市人民政府办公厅<br>2019年6月18日</p>'
)
NEWS_TITLE = "长江上游生态屏障建设成效显著 两岸青山绿水入画来"


def make_policy(item_id: int = 6401, *, title: str = POLICY_TITLE, revision: int = 1,
                correction_note: str | None = None, body_html: str = POLICY_BODY) -> ItemSnapshot:
    published = datetime(2019, 6, 20, 10, 0, tzinfo=BEIJING)
    return ItemSnapshot(
        id=item_id,
        revision=revision,
        kind=ItemKind.policy,
        title=title,
        summary="进一步加强政府网站信息内容建设，推进政务公开标准化规范化。",
        body_html=body_html,
        author="",
        unit=UNIT,
        issuer="重庆市人民政府办公厅",
        index_no=f"11500000MB1527398B/2019-{item_id:05d}",
        doc_no="渝府办发〔2019〕64号",
        written_date=date(2019, 6, 18),
        published_at=published,
        updated_at=published + timedelta(days=revision - 1),
        keywords=["政务公开", "政府网站"],
        topic_category="综合政务\\政务公开",
        columns=["xxgk"],
        canonical_url=article_url(PORTAL, "cqgov", "xxgk", published, item_id),
        correction_note=correction_note,
    )


def jpeg(width: int, height: int, color: tuple[int, int, int], *, quality: int = 85, noise: bool = False) -> bytes:
    if noise:  # photographic detail that JPEG cannot squeeze
        image = Image.frombytes("RGB", (width, height), random.Random(width * height).randbytes(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 8, height // 4, width * 7 // 8, height * 3 // 4), outline=(255, 255, 255), width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png_chart(width: int = 640, height: int = 400) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for i, value in enumerate((120, 220, 310, 260)):
        draw.rectangle((60 + i * 140, height - value, 140 + i * 140, height - 20), fill=(30, 110, 200, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def media_ref(data: bytes, mime: str, alt: str | None = None) -> MediaRef:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    sha = hashlib.sha256(data).hexdigest()
    return MediaRef(sha256=sha, mime=mime, size=len(data), width=width, height=height, alt=alt)


def make_news(media_store, item_id: int = 7001, *, revision: int = 1, correction_note: str | None = None,
              cover: bytes | None = None) -> ItemSnapshot:
    """A news item with a cover photo and two inline pictures, all put into `media_store` (MediaFiles)."""
    photos = [
        (cover or jpeg(900, 383, (34, 120, 60)), "image/jpeg", "长江两岸"),
        (jpeg(1080, 720, (20, 90, 160)), "image/jpeg", "广阳岛生态修复现场"),
        (png_chart(), "image/png", "森林覆盖率变化"),
    ]
    refs = []
    for data, mime, alt in photos:
        assert media_store.put(data) == hashlib.sha256(data).hexdigest()
        refs.append(media_ref(data, mime, alt))
    cover_ref, photo, chart = refs
    body = (
        "<p>记者从市林业局获悉，近年来我市统筹推进山水林田湖草沙一体化保护和系统治理，长江上游重要生态屏障更加牢固。</p>"
        f'<p><img src="/media/{photo.sha256}" alt="{photo.alt}"></p>'
        "<p>截至2024年底，全市森林覆盖率达到55.06%，长江干流重庆段水质保持为Ⅱ类。</p>"
        f'<figure><img src="/media/{chart.sha256}" alt="{chart.alt}"><figcaption>图为全市森林覆盖率变化情况</figcaption></figure>'
        f'<p>下一步，我市将持续推进“两岸青山·千里林带”建设。<img src="/media/{photo.sha256}"></p>'
    )
    published = datetime(2025, 4, 2, 8, 30, tzinfo=BEIJING)
    return ItemSnapshot(
        id=item_id,
        revision=revision,
        kind=ItemKind.news,
        title=NEWS_TITLE,
        summary="",
        body_html=body,
        author="重庆日报记者 李明",
        unit=UNIT,
        issuer="重庆市林业局",
        index_no=f"11500000MB1527398B/2025-{item_id:05d}",
        published_at=published,
        updated_at=published + timedelta(hours=revision - 1),
        columns=["ywdt"],
        canonical_url=article_url(PORTAL, "cqgov", "ywdt", published, item_id),
        media=refs,
        cover=cover_ref.sha256,
        correction_note=correction_note,
    )
