"""The demo's newsroom: a city and two districts, their channels, people in every role, and a
handful of realistic items (a normative policy, its interpretation, a 民生 item, an emergency)."""

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

UNITS = [  # code, name, parent, 组织机构代码
    ("cq", "重庆市人民政府办公厅", None, "008282882"),
    ("yuzhong", "渝中区人民政府", "cq", "009283746"),
    ("jiangbei", "江北区人民政府", "cq", "009283801"),
]
PEOPLE = [  # name, role, unit, display name
    ("editor", "editor", "cq", "市政府办编辑 王芳"),
    ("reviewer1", "reviewer", "cq", "初审 李强"),
    ("reviewer2", "reviewer", "cq", "审核 张敏"),
    ("signer", "signer", "cq", "审发 陈静"),
    ("admin", "admin", "cq", "系统管理员"),
    ("yz-editor", "editor", "yuzhong", "渝中区编辑 刘洋"),
    ("yz-reviewer1", "reviewer", "yuzhong", "渝中区初审 赵磊"),
    ("yz-reviewer2", "reviewer", "yuzhong", "渝中区审核 孙丽"),
    ("yz-signer", "signer", "yuzhong", "渝中区审发 周杰"),
    ("jb-editor", "editor", "jiangbei", "江北区编辑 吴倩"),
    ("jb-reviewer1", "reviewer", "jiangbei", "江北区初审 郑浩"),
    ("jb-reviewer2", "reviewer", "jiangbei", "江北区审核 冯雪"),
    ("jb-signer", "signer", "jiangbei", "江北区审发 何平"),
]
PASSWORD = "kitchen-demo"  # every demo person's console password (a local demo on loopback only)
SITE_COLUMNS = {"xxgk": "政府信息公开", "zcjd": "政策解读", "news": "要闻动态", "tzgg": "通知公告"}
SITE_NAMES = {"cq": "重庆市人民政府网", "yuzhong": "渝中区人民政府网", "jiangbei": "江北区人民政府网"}


@dataclass
class DemoItem:
    key: str
    unit: str
    editor: str
    reviewers: tuple[str, str, str]
    fields: dict
    cover: bool = False
    interprets: str | None = None


ITEMS = [
    DemoItem("policy", "cq", "editor", ("reviewer1", "reviewer2", "signer"), {
        "title": "重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知",
        "kind": "policy",
        "doc_no": "渝府办发〔2019〕64号",
        "written_date": "2019-06-18",
        "summary": "统一信息资源库，信息同源、分发同时，先审后发，加强政府网站和政务新媒体信息内容建设。",
        "keywords": ["政务公开", "政府网站", "政务新媒体"],
        "topic_category": "综合政务\\政务公开",
        "columns": ["xxgk"],
        "body": "<p>各区县（自治县）人民政府，市政府各部门，有关单位：</p>"
                "<p>为进一步加强政府网站信息内容建设，经市政府同意，现就有关事项通知如下。</p>"
                "<h2>一、建立统一信息资源库</h2><p>各单位发布的信息先入库、后使用，实现信息同源、分发同时、"
                "资源同享、服务同根。</p><h2>二、严格审核发布</h2><p>落实三审制度，谁审查谁负责，"
                "未经审核的信息一律不得发布。</p><h2>三、加强日常监测</h2><p>政府网站每日更新，"
                "政务新媒体每周更新不少于3次。</p><p>重庆市人民政府办公厅</p>",
    }),
    DemoItem("interpretation", "cq", "editor", ("reviewer1", "reviewer2", "signer"), {
        "title": "《关于进一步加强政府网站信息内容建设的通知》政策解读",
        "kind": "interpretation",
        "summary": "一图读懂“信息中央厨房”：一次采集、多元发布。",
        "keywords": ["政策解读", "信息中央厨房"],
        "columns": ["zcjd"],
        "body": "<h2>一、出台背景</h2><p>政府网站和政务新媒体是政务公开的第一平台。</p>"
                "<h2>二、主要内容</h2><p>通知明确建立信息资源库，实行先审后发、一次采集、多元发布。</p>",
    }, interprets="policy"),
    DemoItem("livelihood", "yuzhong", "yz-editor", ("yz-reviewer1", "yz-reviewer2", "yz-signer"), {
        "title": "渝中区新增12个社区食堂 老年人就餐享受优惠",
        "kind": "news",
        "summary": "今年以来渝中区新建社区食堂12个，60岁以上老年人凭身份证就餐可享八折优惠。",
        "keywords": ["社区食堂", "养老服务", "民生实事"],
        "topic_category": "民政、扶贫、救灾\\社会福利",
        "columns": ["news"],
        "body": "<p>记者从渝中区民政局获悉，今年以来全区新建社区食堂12个，覆盖11个街道。</p>"
                "<p>60岁以上老年人凭本人身份证就餐可享受八折优惠，咨询电话023-63851234。</p>",
    }, cover=True),
    DemoItem("emergency", "jiangbei", "jb-editor", ("jb-reviewer1", "jb-reviewer2", "jb-signer"), {
        "title": "江北区关于暴雨红色预警期间停课停工的紧急通知",
        "kind": "emergency",
        "summary": "受强降雨影响，江北区发布暴雨红色预警，全区中小学、幼儿园明日停课。",
        "keywords": ["暴雨预警", "应急管理"],
        "topic_category": "公共安全\\应急管理",
        "columns": ["tzgg"],
        "body": "<p>据区气象台预报，未来24小时全区将出现大暴雨。</p>"
                "<p>全区中小学、幼儿园明日停课，建筑工地停工，市民非必要不外出。险情请拨打12345。</p>",
    }),
]


def cover_image() -> bytes:
    """A small, real JPEG made here (no downloads): a stylised community canteen banner."""
    image = Image.new("RGB", (900, 383), (196, 30, 58))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 40, 860, 343], outline=(255, 215, 0), width=8)
    for i in range(6):
        draw.ellipse([100 + i * 120, 150, 180 + i * 120, 230], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
