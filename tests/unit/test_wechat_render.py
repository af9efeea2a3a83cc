"""Item → WeChat article, with no I/O: limits, safe HTML, image placeholders, correction notes,
and fitting uploads to WeChat's image rules."""

import io
import re

import pytest
from PIL import Image

from connectors.wechat.images import COVER_IMAGE, COVER_THUMB, INLINE_IMAGE, fit_image, placeholder_cover
from connectors.wechat.render import MAX_CONTENT_CHARS, cut, render_article
from pipeline.store.media_files import MediaFiles
from tests.integration.wechat_items import LONG_TITLE, NEWS_TITLE, POLICY_TITLE, jpeg, make_news, make_policy, png_chart


@pytest.fixture
def media(tmp_path):
    return MediaFiles(tmp_path / "media")


def tags(content: str, name: str) -> list[str]:
    return re.findall(rf"<{name}\b[^>]*>", content)


def test_title_author_digest_fit_wechat_limits():
    article = render_article(make_policy(title=LONG_TITLE))
    assert len(LONG_TITLE) > 32
    assert len(article.title) == 32 and article.title.endswith("…")
    assert article.title.startswith("重庆市人民政府办公厅关于印发重庆市推进政务服务")
    assert render_article(make_policy()).title == POLICY_TITLE  # 30 characters: untouched
    assert article.author == "重庆市人民政府办公厅"  # no byline: the issuer signs
    assert article.digest == "进一步加强政府网站信息内容建设，推进政务公开标准化规范化。"


def test_digest_and_author_from_a_news_item(media):
    article = render_article(make_news(media))
    assert article.author == "重庆日报记者 李明"
    assert len(article.digest) == 128 and article.digest.endswith("…")
    assert article.digest.startswith("记者从市林业局获悉")
    assert "<" not in article.digest


def test_cut_counts_characters_not_bytes():
    assert cut("重庆" * 20, 32) == "重庆" * 15 + "重…"
    assert cut("  政务\n公开  ", 16) == "政务 公开"


def test_policy_document_keeps_its_document_number_and_source_link():
    item = make_policy()
    article = render_article(item)
    assert "渝府办发〔2019〕64号" in article.content
    assert article.content_source_url == item.canonical_url
    assert article.content_source_url.startswith("https://www.cq.gov.cn/sites/cqgov/xxgk/201906/t20190620_6401.html")
    assert "来源：重庆市人民政府办公厅" in article.content
    assert article.cover is None and article.images == ()


def test_content_is_wechat_safe():
    content = render_article(make_policy()).content
    assert "<script" not in content and "统计代码" not in content
    assert "onclick" not in content and "track()" not in content
    assert "class=" not in content and "MsoNormal" not in content
    assert "font-family" not in content  # only text-align survives from the source's styles
    assert "www.gov.cn" not in content and "target=" not in content
    assert "具体要求详见《政府网站发展指引》，解读文章见" in content  # the outside link became its text
    assert '<a href="https://mp.weixin.qq.com/s/cqgov-jiedu">政策解读</a>' in content
    assert "<h1" not in content and tags(content, "h2")
    assert all('style="' in tag for tag in tags(content, "p") + tags(content, "h2") + tags(content, "ol"))
    signature = '<p style="margin:0 0 1em;line-height:1.75;font-size:16px;color:#333;text-align:right">重庆市人民政府办公厅<br>'
    assert signature in content


def test_text_is_escaped_once():
    item = make_policy(body_html="<p>A&amp;B &lt;通知&gt; “引号”</p>", correction_note="<b>更正</b>")
    content = render_article(item).content
    assert ">A&amp;B &lt;通知&gt; “引号”</p>" in content
    assert "&lt;b&gt;更正&lt;/b&gt;" in content


def test_inline_images_are_listed_once_in_order_and_swapped_for_uploaded_urls(media):
    item = make_news(media)
    article = render_article(item)
    photo, chart = item.media[1].sha256, item.media[2].sha256
    assert article.images == (photo, chart)
    assert article.cover == item.cover
    assert len(tags(article.content, "img")) == 3  # the photo appears twice
    assert all("max-width:100%" in tag for tag in tags(article.content, "img"))
    urls = {
        photo: "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0?wx_fmt=jpeg",
        chart: "http://mmbiz.qpic.cn/mmbiz_png/def/0?wx_fmt=png",
    }
    draft = article.draft("THUMB_ID", urls)
    assert "/media/" not in draft["content"]
    assert draft["content"].count(urls[photo]) == 2 and draft["content"].count(urls[chart]) == 1
    assert draft["thumb_media_id"] == "THUMB_ID" and draft["title"] == NEWS_TITLE
    assert draft["need_open_comment"] == 0 and draft["content_source_url"] == item.canonical_url


def test_images_not_in_the_kitchen_are_dropped():
    item = make_policy(body_html='<p>图<img src="https://cdn.example.com/a.jpg"><img src="/media/abc"></p>')
    article = render_article(item)
    assert article.images == () and "<img" not in article.content


def test_correction_note_leads_the_article():
    note = "原文第二段“三审三校”误为“三审两校”，现予更正。"
    content = render_article(make_policy(revision=2, correction_note=note)).content
    assert content.startswith("<section")
    assert "<strong>更正说明：</strong>" + note in content
    assert content.index("更正说明") < content.index("渝府办发〔2019〕64号")
    assert "更正说明" not in render_article(make_policy()).content


def test_open_comment_follows_the_target():
    assert render_article(make_policy(), open_comment=True).need_open_comment == 1


def test_very_long_content_drops_styles_to_stay_under_the_limit():
    body = "".join(f"<p>第{i}条 各单位要落实信息发布审核制度。</p>" for i in range(500))
    article = render_article(make_policy(body_html=body))
    assert len(article.content) < MAX_CONTENT_CHARS
    assert "<p>第499条" in article.content


def _format(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


def test_fitting_images_leaves_good_files_alone():
    chart = png_chart()
    assert fit_image(chart, INLINE_IMAGE, "chart") == ("chart.png", chart, "image/png")
    photo = jpeg(300, 200, (10, 20, 30))
    assert fit_image(photo, COVER_THUMB, "cover") == ("cover.jpg", photo, "image/jpeg")


def test_fitting_converts_and_shrinks():
    webp = io.BytesIO()
    Image.new("RGB", (200, 100), (1, 2, 3)).save(webp, "WEBP")
    name, data, mime = fit_image(webp.getvalue(), COVER_IMAGE, "cover")
    assert (name, mime, _format(data)[0]) == ("cover.jpg", "image/jpeg", "JPEG")

    big = jpeg(1400, 1000, (0, 0, 0), quality=95, noise=True)
    assert len(big) > 1024 * 1024
    name, data, mime = fit_image(big, INLINE_IMAGE, "photo")
    assert len(data) < 1024 * 1024 and name == "photo.jpg"
    name, data, mime = fit_image(big, COVER_THUMB, "thumb")
    assert len(data) <= 64 * 1024 and _format(data)[0] == "JPEG"

    transparent = png_chart()  # RGBA → JPEG on white, not black
    _, data, _ = fit_image(transparent, COVER_THUMB, "c")
    with Image.open(io.BytesIO(data)) as image:
        assert image.convert("RGB").getpixel((5, 5)) >= (250, 250, 250)


def test_placeholder_cover_is_a_valid_thumb():
    data = placeholder_cover()
    assert _format(data) == ("JPEG", (900, 383))
    assert fit_image(data, COVER_THUMB, "c")[1] == data
