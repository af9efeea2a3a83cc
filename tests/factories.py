"""Building a realistic newsroom for tests: a city, two districts, people in each role."""

from dataclasses import dataclass

from pipeline.org.units import add_unit
from pipeline.org.users import add_user
from pipeline.store.db import session_scope

POLICY_BODY = (
    "<h2>一、总体要求</h2>"
    "<p>为深入贯彻落实《政府信息公开条例》，进一步推进政务公开标准化规范化，结合我市实际，现就有关事项通知如下。</p>"
    "<p>各区县人民政府、市政府各部门要按照“信息同源、分发同时”的要求，统一信息资源库，先审后发。</p>"
    "<h2>二、主要任务</h2><ol><li>建立信息发布协调机制。</li><li>落实三审三校制度。</li></ol>"
)
INTERPRETATION_BODY = (
    "<p>《重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知》（渝府办发〔2019〕64号）已印发。"
    "现就有关内容解读如下。</p><h2>一、出台背景</h2><p>政府网站是政务公开的第一平台。</p>"
)


@dataclass
class Newsroom:
    tokens: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def seed_newsroom() -> Newsroom:
    tokens = {}
    with session_scope() as session:
        add_unit(session, "cq", "重庆市人民政府办公厅", org_code="008282882")
        add_unit(session, "yuzhong", "渝中区人民政府", parent="cq", org_code="009283746")
        add_unit(session, "jiangbei", "江北区人民政府", parent="cq")
        for name, role, unit in [
            ("editor", "editor", "cq"), ("editor2", "editor", "yuzhong"),
            ("reviewer1", "reviewer", "cq"), ("reviewer2", "reviewer", "cq"),
            ("signer", "signer", "cq"), ("signer2", "signer", "cq"), ("admin", "admin", "cq"),
        ]:
            _, tokens[name] = add_user(session, name, role, unit)
    return Newsroom(tokens)


def policy_body(**overrides) -> dict:
    body = {
        "title": "重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知",
        "body": POLICY_BODY,
        "kind": "policy",
        "summary": "进一步加强政府网站信息内容建设，推进政务公开。",
        "doc_no": "渝府办发〔2019〕64号",
        "written_date": "2019-06-18",
        "keywords": ["政务公开", "政府网站"],
        "topic_category": "综合政务\\政务公开",
        "columns": ["xxgk"],
    }
    return body | overrides
