"""Bad input, beyond the hand-written cases of test_api_bad_input.py:

- schemathesis generates requests for every operation of /api/v1/openapi.json (valid and invalid
  bodies, parameters and ids) against the real app on the real store: never a 5xx, and every
  documented response matches its schema;
- an XSS corpus through the body field: no script, event handler or `javascript:` URL reaches the
  portal, WeChat, Weibo or feed output — both through each connector's own render function given
  the raw payload (defence in depth: the connectors do not trust the store) and end to end, from
  the API through Kafka to what the emulated platforms and the published files hold;
- oversize bodies on revise, invalid UTF-8 in every JSON route, unknown ids in every id route:
  clear 4xx problems and nothing stored.
"""

import html
import json
import re
from collections import Counter

import html5lib
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from pipeline.api.app import create_app
from tests.factories import policy_body, seed_newsroom

# ---------------------------------------------------------------------------------------------
# schemathesis against the OpenAPI document


@pytest.fixture
def room(settings):
    return seed_newsroom()


@pytest.fixture
def app(settings):
    return create_app(settings)


ACTING = {"reviews": "reviewer1", "takedown": "signer", "items": "editor", "media": "editor"}
EXAMPLES = 12  # per operation; derandomized, so a run repeats exactly


def acting_user(path: str) -> str:
    """Who calls: the role that may use the route, so generated calls reach the code behind the checks."""
    for part, who in ACTING.items():
        if f"/{part}" in path and (part != "items" or "/takedown" not in path):
            return who
    return "admin"


def test_generated_requests_never_get_a_5xx_or_a_response_off_schema(app, room):
    """Every operation of the OpenAPI document, through schemathesis' Python API (its pytest plugin
    does not load under pytest 9), with hypothesis shrinking any failure to its smallest request."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    checks = [not_a_server_error, response_schema_conformance]
    failures = {}
    for operation in operations:
        headers = room.auth(acting_user(operation.path))

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=headers, checks=checks)

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # collect them all: one run shows every broken operation
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:1500]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


# ---------------------------------------------------------------------------------------------
# XSS: the corpus, and what counts as reaching the output

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//127.0.0.1/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    '<svg onload=alert(1)><script>alert(2)</script></svg>',
    '<a href="javascript:alert(1)">点击查看</a>',
    '<a href="JaVaScRiPt:alert(1)">大小写</a>',
    '<a href="java&#x09;script:alert(1)">制表符</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">实体编码</a>',
    '<a href="  javascript:alert(1)">前导空格</a>',
    '<a href="vbscript:msgbox(1)">vbscript</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<p onclick="alert(1)" style="background:url(javascript:alert(1))">段落</p>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">提交</button></form>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<details open ontoggle=alert(1)>',
    '<body onload=alert(1)>',
    '<input autofocus onfocus=alert(1)>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<div style="width: expression(alert(1))">表达式</div>',
    '"><script>alert(1)</script>',
    "'-alert(1)-'",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    '<img src="/media/x" alt="x" onmouseover="alert(1)">',
    '<a href="http://127.0.0.1/ok" onmouseover="alert(1)">允许的链接</a>',
]
BODY = "<p>为深入贯彻落实《政府信息公开条例》，现就有关事项通知如下。</p>" + "".join(
    f"<p>第{i + 1}项：{payload}</p>" for i, payload in enumerate(XSS_CORPUS))
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "form", "base", "meta", "link", "style", "svg", "math",
                  "frame", "frameset", "applet", "button", "input"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "background", "poster", "xlink:href", "content",
                  "srcset", "cite"}
BAD_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)


def _scheme_text(value: str) -> str:
    """A URL as a browser reads its scheme: entities decoded, whitespace and controls dropped."""
    return re.sub(r"[\x00-\x20]", "", html.unescape(value))


PAGE_TEMPLATE_TAGS = {"meta", "link", "style"}  # a portal page's own <head>


def xss_findings(markup: str, where: str, allowed: set[str] = frozenset()) -> list[str]:
    """Everything in `markup` (HTML) a browser would run: script-like elements (but `allowed`),
    on* handlers, javascript:/vbscript:/data: URLs, and script in style attributes."""
    found = []
    doc = html5lib.parse(markup, treebuilder="etree", namespaceHTMLElements=False)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag in DANGEROUS_TAGS - allowed:
            found.append(f"{where}: <{tag}>")
        for name, value in el.attrib.items():
            name = name.rsplit("}", 1)[-1].lower()
            if name.startswith("on"):
                found.append(f"{where}: <{tag} {name}=…>")
            if name in URL_ATTRIBUTES and BAD_SCHEME.match(_scheme_text(value)):
                found.append(f"{where}: <{tag} {name}={value!r}>")
            if name == "style" and re.search(r"javascript:|expression\(|url\(", _scheme_text(value), re.I):
                found.append(f"{where}: <{tag} style={value!r}>")
    return found


def text_findings(text: str, where: str) -> list[str]:
    """Plain-text channels (Weibo): no markup at all, and no script URL as a link target."""
    found = [f"{where}: markup {m!r}" for m in re.findall(r"<\s*/?\s*[a-zA-Z][^>]*>", text)]
    found += [f"{where}: {m!r}" for m in re.findall(r"(?:javascript|vbscript):", _scheme_text(text), re.I)]
    return found


def strings_in(value) -> list[str]:
    """Every string inside a JSON value (a webhook payload, a feed)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in strings_in(v)] if isinstance(value, list) else []


def test_the_detector_sees_every_payload_of_the_corpus():
    """The checks below can fail: each payload, unsanitised, is flagged (else it tests nothing)."""
    missed = [p for p in XSS_CORPUS if not xss_findings(p, "raw") and not text_findings(p, "raw")]
    # plain text, harmless outside a script context; an unclosed tag at the end is dropped by browsers too
    assert missed == ["<img src=x onerror=alert(1)//", "'-alert(1)-'"]


# ---------------------------------------------------------------------------------------------
# XSS through each connector's own render function, given the raw payload


@pytest.fixture
def raw_item():
    from tests.integration.portal_items import policy

    return policy("http://127.0.0.1:8000").model_copy(update={"body_html": BODY, "summary": ""})


@pytest.fixture
def clean_item():
    from tests.integration.portal_items import policy

    return policy("http://127.0.0.1:8000").model_copy(update={"summary": ""})


def added_findings(markup: str, clean: str, where: str) -> list[str]:
    """Findings in a whole page that the same page with a clean body does not have (the template's
    own <meta>, <link> and search form are not the item's doing)."""
    return list((Counter(xss_findings(markup, where)) - Counter(xss_findings(clean, where))).elements())


def test_portal_page_renders_no_script_from_a_raw_body(raw_item, clean_item):
    from connectors.portal.render import SiteInfo, render_article, sanitize_body

    site = SiteInfo(code="cq", name="重庆市人民政府网", base_url="http://127.0.0.1:8000", columns={"zcwj": "政策文件"})
    path = "zcwj/201912/t20191225_1.html"
    page = render_article(raw_item, site, ["zcwj"], path)
    assert added_findings(page, render_article(clean_item, site, ["zcwj"], path), "portal page") == []
    assert xss_findings(str(sanitize_body(raw_item, site)), "portal body") == []
    assert "第1项" in page  # the text around the payloads is still there


def test_wechat_article_renders_no_script_from_a_raw_body(raw_item):
    from connectors.wechat.render import render_article

    article = render_article(raw_item)
    assert xss_findings(article.content, "wechat content") == []
    assert text_findings(article.title, "wechat title") == [] and text_findings(article.digest, "wechat digest") == []
    assert "第1项" in article.content


def test_weibo_post_renders_no_markup_or_script_url_from_a_raw_body(raw_item):
    from connectors.weibo.render import render_post

    status = render_post(raw_item)["status"]
    assert text_findings(status, "weibo") == []
    assert raw_item.canonical_url in status


def test_app_feed_item_renders_no_script_from_a_raw_body(raw_item):
    from connectors.appfeed import jsonfeed

    entry = jsonfeed.render_item(raw_item, "http://127.0.0.1:8000")
    assert xss_findings(entry["content_html"], "feed content_html") == []
    for key in ("title", "summary", "content_text"):
        if entry.get(key):
            assert text_findings(entry[key], f"feed {key}") == [], key


# ---------------------------------------------------------------------------------------------
# XSS end to end: API → store → Kafka → channel agents → what the platforms and files hold


@pytest.mark.kafka
def test_an_xss_body_reaches_no_channel_end_to_end(kitchen):
    from tests.fixtures.kitchen import wait_until

    room = kitchen.room
    with TestClient(create_app()) as api:
        r = api.post("/api/v1/items", json=policy_body(body=BODY, summary="", doc_no=None, kind="notice",
                                                       title="关于做好民生实事项目实施工作的通知<script>alert(1)</script>"),
                     headers=room.auth("editor"))
        assert r.status_code == 201, r.text
        item_id = r.json()["id"]
        stored = api.get(f"/api/v1/items/{item_id}", headers=room.auth("editor")).json()
        assert xss_findings(stored["body"], "stored body") == []
        assert "<" not in stored["title"]
        assert api.post(f"/api/v1/items/{item_id}/submit", headers=room.auth("editor")).status_code == 200
        for who in ("reviewer1", "reviewer2", "signer"):
            r = api.post(f"/api/v1/items/{item_id}/reviews", json={"decision": "approve"}, headers=room.auth(who))
            assert r.status_code in (200, 201), r.text
    kitchen.workers.start()
    rows = wait_until(lambda: kitchen.settled(item_id), 90, "the XSS item on all four channels")
    url = next(d.url for d in rows if d.channel == "portal")

    from pipeline.config import get_settings

    data = get_settings().data_dir
    findings = []
    page = data / "sites" / url.split("/sites/", 1)[1]
    findings += xss_findings(page.read_text(encoding="utf-8"), "portal page", PAGE_TEMPLATE_TAGS)
    for path in (data / "sites" / "cq-portal").rglob("index*.html"):
        findings += xss_findings(path.read_text(encoding="utf-8"), path.name, PAGE_TEMPLATE_TAGS)
    for path in (data / "sites" / "cq-portal").rglob("rss.xml"):
        findings += [f"{path.name}: <script"] if "<script" in path.read_text(encoding="utf-8").lower() else []
    posts = kitchen.sandbox.posts()
    for post in posts["wechat"]:
        findings += xss_findings(post.get("content", ""), "wechat article")
        findings += text_findings(post.get("title", ""), "wechat title")
    for post in posts["weibo"]:
        findings += text_findings(post["text"], "weibo post")
    for post in posts["webhooks"]["posts"]:
        findings += [f for text in strings_in(post) for f in xss_findings(text, "webhook payload")]
    feed_dir = data / "feeds" / "cq-app"
    for path in feed_dir.glob("*.json"):
        feed = json.loads(path.read_text(encoding="utf-8"))
        for entry in feed.get("items", []) if isinstance(feed, dict) else []:
            findings += xss_findings(entry.get("content_html", ""), f"{path.name} content_html")
    for path in list(feed_dir.glob("*.xml")):
        findings += [f"{path.name}: <script"] if "&lt;script" in path.read_text().lower() else []
    assert posts["wechat"] and posts["weibo"] and posts["webhooks"]["posts"], "nothing reached the platforms"
    assert findings == []


# ---------------------------------------------------------------------------------------------
# Oversize, invalid UTF-8 and unknown ids across the routes


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def stored(client, room):
    items = client.get("/api/v1/items?limit=500", headers=room.auth("admin")).json()
    audit = client.get("/api/v1/audit", headers=room.auth("admin")).json()
    return [(i["id"], i["status"], i["revision"]) for i in items], len(audit)


def problem(r, *statuses):
    assert r.status_code in statuses, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]


def test_an_oversize_revision_is_413_and_the_item_keeps_its_revision(client, room, settings):
    item = client.post("/api/v1/items", json=policy_body(), headers=room.auth("editor")).json()
    before = stored(client, room)
    huge = "<p>" + "政" * (settings.max_body_bytes // 3 + 50_000) + "</p>"
    problem(client.put(f"/api/v1/items/{item['id']}", json={"body": huge}, headers=room.auth("editor")), 413)
    assert stored(client, room) == before
    # an oversize body sent chunked (no Content-Length) is refused too, with the same 413
    def chunks():
        yield b'{"title": "t", "kind": "news", "body": "'
        yield from (b"x" * 65536 for _ in range(40))
        yield b'"}'

    r = client.post("/api/v1/items", content=chunks(),
                    headers=room.auth("editor") | {"Content-Type": "application/json"})
    problem(r, 413)
    assert stored(client, room) == before


@pytest.mark.parametrize("method,path", [
    ("post", "/api/v1/items"), ("put", "/api/v1/items/{id}"), ("post", "/api/v1/items/{id}/reviews"),
    ("post", "/api/v1/items/{id}/takedown"), ("post", "/api/v1/distributions/replay"),
    ("post", "/api/v1/units"), ("post", "/api/v1/targets"),
])
def test_invalid_utf8_is_a_400_on_every_json_route(client, room, method, path):
    item = client.post("/api/v1/items", json=policy_body(), headers=room.auth("editor")).json()
    before = stored(client, room)
    r = client.request(method, path.format(id=item["id"]), content=b'{"title": "\xc3\x28", "reason": "\xff"}',
                       headers=room.auth("admin") | {"Content-Type": "application/json"})
    problem(r, 400)
    assert stored(client, room) == before


@pytest.mark.parametrize("method,path,body", [
    ("get", "/api/v1/items/987654", None), ("put", "/api/v1/items/987654", {"title": "新标题"}),
    ("post", "/api/v1/items/987654/submit", None), ("post", "/api/v1/items/987654/takedown", {"reason": "文件已废止"}),
    ("get", "/api/v1/items/987654/distributions", None), ("get", "/api/v1/distributions/987654/history", None),
    ("get", "/api/v1/items/-1", None),
    ("get", "/api/v1/items/99999999999999999999999", None), ("get", "/api/v1/items/2147483648", None),
    ("get", "/api/v1/distributions/2147483648/history", None), ("get", "/api/v1/distributions?item=2147483648", None),
    ("get", "/api/v1/audit?item=99999999999999999999", None),
])
def test_unknown_ids_are_clear_4xx_problems(client, room, method, path, body):
    before = stored(client, room)
    r = client.request(method, path, json=body, headers=room.auth("admin"))
    problem(r, 404, 422)
    assert stored(client, room) == before


def test_a_replay_naming_an_unknown_item_or_state_changes_nothing(client, room):
    before = stored(client, room)
    r = client.post("/api/v1/distributions/replay", json={"item": 987654}, headers=room.auth("admin"))
    assert r.status_code in (200, 202, 404), r.text
    if r.status_code != 404:
        assert r.json()["events"] == 0
    problem(client.post("/api/v1/distributions/replay", json={"states": ["bogus"]}, headers=room.auth("admin")), 422)
    assert stored(client, room)[0] == before[0]  # the audit may record the (empty) replay; items are untouched


def test_a_nul_character_in_a_filter_is_a_4xx_on_every_database(client, room):
    """PostgreSQL refuses NUL in text (psycopg DataError); that is bad input, not a server error."""
    r = client.get("/api/v1/governance/freshness/history?unit=%00", headers=room.auth("admin"))
    problem(r, 404, 422)
    r = client.get("/api/v1/distributions?target=a%00b", headers=room.auth("admin"))
    assert r.status_code in (200, 422), r.text
