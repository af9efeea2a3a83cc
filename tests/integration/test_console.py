"""The newsroom console over HTTP on a real database: sign-in, sessions, CSRF, the item's way from the
editor through three reviewers, gate findings in place, the diff, takedown, and the API beside it."""

import io
import re
import time

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from PIL import Image
from sqlmodel import select

from pipeline.console.passwords import set_password
from pipeline.console.sessions import COOKIE, IDLE_SECONDS, MAX_SECONDS, secret_key
from pipeline.org.users import get_user
from pipeline.registry.targets import add_target
from pipeline.store.db import session_scope
from pipeline.store.models import AuditEntry, Item, OutboxEntry, User
from tests.factories import POLICY_BODY, seed_newsroom

PASSWORD = "厨房-correct-horse"
PEOPLE = ("editor", "reviewer1", "reviewer2", "signer", "admin")
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def room(settings):
    room = seed_newsroom()
    with session_scope() as session:
        for name in PEOPLE:
            set_password(session, None, get_user(session, name), PASSWORD)
        # the four channels, as registered in production (nothing here calls them)
        add_target(session, "cq-portal", "portal", "cq", "重庆市人民政府网",
                   {"columns": {"xxgk": "政府信息公开", "news": "要闻动态"}, "default_column": "news"})
        add_target(session, "cq-wechat", "wechat", "cq", "重庆发布", {"appid": "wxcq", "secret": "s"})
        add_target(session, "cq-weibo", "weibo", "cq", "重庆发布微博", {"access_token": "t", "uid": "1"})
        add_target(session, "cq-app", "appfeed", "cq", "重庆市政府App", {})
    return room


class Browser:
    """A TestClient that keeps the console's cookie and reads the CSRF token off each page."""

    def __init__(self, app):
        self.http = TestClient(app)
        self.token = ""

    def get(self, url: str, **kw):
        r = self.http.get(url, **kw)
        found = CSRF.search(r.text)
        if found:
            self.token = found.group(1)
        return r

    def post(self, url: str, data: dict | list | None = None, csrf: bool = True, **kw):
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            fields.append(("csrf_token", self.token))
        return self.http.post(url, data=_multi(fields), follow_redirects=False, **kw)

    def sign_in(self, name: str, password: str = PASSWORD):
        self.http.cookies.clear()
        self.get("/console/login")
        r = self.post("/console/login", {"username": name, "password": password, "next": "/console/items"})
        assert r.status_code == 303, r.text
        return r


def _multi(fields):
    out: dict[str, list[str] | str] = {}
    for key, value in fields:
        out.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


@pytest.fixture
def app(settings):
    from pipeline.api.app import create_app

    return create_app(settings)


@pytest.fixture
def browser(app, room):
    return Browser(app)


def item_form(**overrides) -> list[tuple[str, str]]:
    fields = {"title": "重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知", "kind": "policy",
              "summary": "进一步加强政府网站信息内容建设，推进政务公开。", "body": POLICY_BODY,
              "doc_no": "渝府办发〔2019〕64号", "written_date": "2019-06-18", "keywords": "政务公开、政府网站",
              "topic_category": "综合政务\\政务公开", "publish_at": ""} | overrides
    pairs = list(fields.items()) + [("columns", "xxgk")]
    return pairs + [("targets", t) for t in ("cq-portal", "cq-wechat", "cq-weibo", "cq-app")]


def create_item(browser: Browser, **overrides) -> int:
    browser.get("/console/items/new")
    r = browser.post("/console/items/new", item_form(**overrides))
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


# -- signing in ---------------------------------------------------------------------------------------

def test_a_wrong_password_an_unknown_name_and_an_account_without_password_are_refused(browser):
    with session_scope() as session:
        get_user(session, "editor2")  # seeded without a console password
    for name, password in [("editor", "wrong-password"), ("nobody", PASSWORD), ("editor2", PASSWORD), ("editor", "")]:
        browser.http.cookies.clear()
        browser.get("/console/login")
        r = browser.post("/console/login", {"username": name, "password": password})
        assert r.status_code == 401 and "用户名或密码错误" in r.text, (name, r.status_code)
        assert browser.get("/console/items", follow_redirects=False).status_code == 303
    with session_scope() as session:
        get_user(session, "reviewer1").active = False
    browser.get("/console/login")
    assert browser.post("/console/login", {"username": "reviewer1", "password": PASSWORD}).status_code == 401

    r = browser.sign_in("editor")
    assert r.headers["location"] == "/console/items"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(COOKIE + "=") and "httponly" in cookie and "samesite=lax" in cookie
    page = browser.get("/console/items")
    assert page.status_code == 200 and "退出" in page.text


def test_sign_in_only_redirects_inside_the_console(browser):
    browser.get("/console/login")
    for target in ("https://evil.example/", "//evil.example/console/", "/api/v1/items", "/console\\..\\x"):
        browser.http.cookies.clear()
        browser.get("/console/login")
        r = browser.post("/console/login", {"username": "editor", "password": PASSWORD, "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/console/", target


def test_pages_ask_for_sign_in_and_scripts_get_401(browser):
    r = browser.get("/console/board", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/board"
    assert browser.get("/console/board.json").status_code == 401
    assert browser.get("/", follow_redirects=False).headers["location"] == "/console/"


# -- CSRF ------------------------------------------------------------------------------------------

def test_every_post_without_the_sessions_csrf_token_is_refused(browser, app):
    browser.http.cookies.clear()
    browser.get("/console/login")
    r = browser.post("/console/login", {"username": "editor", "password": PASSWORD}, csrf=False)
    assert r.status_code == 403 and "CSRF" in r.text

    browser.sign_in("editor")
    browser.get("/console/items/new")
    before = _count(Item)
    for fields in (item_form(), item_form() + [("csrf_token", "forged")]):
        r = browser.post("/console/items/new", fields, csrf=False)
        assert r.status_code == 403, r.text
    # a token from another session is no better
    other = Browser(app)
    other.sign_in("reviewer1")
    r = browser.post("/console/items/new", item_form() + [("csrf_token", other.token)], csrf=False)
    assert r.status_code == 403
    assert _count(Item) == before
    # scripts send the token as a header
    r = browser.http.post("/console/preview/weibo", data={"title": "标题"}, headers={"Accept": "application/json"})
    assert r.status_code == 403
    r = browser.http.post("/console/preview/weibo", data={"title": "标题"},
                          headers={"Accept": "application/json", "X-CSRF-Token": browser.token})
    assert r.status_code == 200
    # signing out is a POST too: without the token the session stays
    assert browser.post("/console/logout", csrf=False).status_code == 403
    assert browser.get("/console/items", follow_redirects=False).status_code == 200


# -- sessions ------------------------------------------------------------------------------------------

def _forge(settings, payload: dict, age: int) -> str:
    """A cookie as the server itself would have signed it `age` seconds ago."""
    import base64
    import json

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    data = base64.b64encode(json.dumps(payload).encode())
    return Then(secret_key(settings)).sign(data).decode()


def test_sign_out_ends_the_session_and_old_or_stale_sessions_are_refused(browser, settings):
    browser.sign_in("editor")
    assert browser.get("/console/items", follow_redirects=False).status_code == 200
    r = browser.post("/console/logout")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert browser.get("/console/items", follow_redirects=False).status_code == 303
    r = browser.post("/console/items/new", item_form())  # a form sent after signing out
    assert r.status_code == 303 and r.headers["location"] == "/console/login"

    with session_scope() as session:
        uid = get_user(session, "editor").id
        from pipeline.console.passwords import password_stamp
        stamp = password_stamp(get_user(session, "editor"))
    moment = int(time.time())
    fresh = {"uid": uid, "stamp": stamp, "since": moment, "seen": moment, "csrf": "x"}
    cases = {
        "fresh": (_forge(settings, fresh, 0), 200),
        "idle too long": (_forge(settings, fresh, IDLE_SECONDS + 5), 303),
        "signed in too long ago": (_forge(settings, fresh | {"since": moment - MAX_SECONDS - 5}, 0), 303),
        "another password": (_forge(settings, fresh | {"stamp": "0" * 16}, 0), 303),
        "tampered": (_forge(settings, fresh, 0)[:-3] + "AAA", 303),
    }
    for what, (cookie, expected) in cases.items():
        browser.http.cookies.clear()
        browser.http.cookies.set(COOKIE, cookie)
        assert browser.get("/console/items", follow_redirects=False).status_code == expected, what


def test_a_new_password_ends_existing_sessions(browser, app):
    browser.sign_in("editor")
    with session_scope() as session:
        set_password(session, None, get_user(session, "editor"), "another-good-password")
    assert browser.get("/console/items", follow_redirects=False).status_code == 303
    browser.sign_in("editor", "another-good-password")


# -- the API beside the console ------------------------------------------------------------------------

def test_the_api_still_takes_bearer_tokens_and_not_the_console_cookie(browser, room):
    browser.sign_in("editor")
    r = browser.http.get("/api/v1/me")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = browser.http.get("/api/v1/me", headers=room.auth("editor"))
    assert r.status_code == 200 and r.json()["name"] == "editor"
    r = browser.http.post("/api/v1/items", json={"title": "关于开展安全生产大检查的通知", "body": "<p>请做好检查。</p>",
                                                "kind": "notice"}, headers=room.auth("editor"))
    assert r.status_code == 201
    assert "关于开展安全生产大检查的通知" in browser.get("/console/items").text


# -- the item's way through the newsroom ------------------------------------------------------------------

def test_an_item_written_in_the_console_passes_three_reviewers_and_is_announced(browser):
    browser.sign_in("editor")
    item_id = create_item(browser)
    page = browser.get(f"/console/items/{item_id}").text
    assert "渝府办发〔2019〕64号" in page and "草稿" in page and "提交审核" in page

    preview = browser.get(f"/console/items/{item_id}/preview")
    assert preview.status_code == 200
    for channel in ("portal", "wechat", "weibo", "appfeed"):
        assert f'data-channel="{channel}"' in preview.text, channel
    length, limit = map(int, re.search(r'data-length="(\d+)" data-limit="(\d+)"', preview.text).groups())
    assert 0 < length <= limit == 140
    assert "urn:ck:item:" in preview.text and "渝府办发〔2019〕64号" in preview.text

    assert browser.post(f"/console/items/{item_id}/submit").status_code == 303
    assert "审核中" in browser.get(f"/console/items/{item_id}").text

    # the author may not review, and a rejection without a reason is refused
    browser.get(f"/console/review/{item_id}")
    r = browser.post(f"/console/review/{item_id}", {"decision": "approve"})
    assert r.status_code == 403

    for who, level in (("reviewer1", 1), ("reviewer2", 2), ("signer", 3)):
        browser.sign_in(who)
        queue = browser.get(f"/console/review?level={level}").text
        assert f"/console/review/{item_id}" in queue, who
        page = browser.get(f"/console/review/{item_id}").text
        assert "未发现敏感词" in page and "首个版本" in page
        if who == "reviewer1":
            r = browser.post(f"/console/review/{item_id}", {"decision": "reject", "comment": ""})
            assert r.status_code == 422 and "comment" in r.text
        r = browser.post(f"/console/review/{item_id}", {"decision": "approve", "comment": "同意"})
        assert r.status_code == 303, r.text
    with session_scope() as session:
        item = session.get(Item, item_id)
        assert item.status == "approved" and item.canonical_url
        assert session.exec(select(OutboxEntry).where(OutboxEntry.item_id == item_id)).first() is not None
        audit = session.exec(select(AuditEntry).where(AuditEntry.item_id == item_id))
        decisions = [(e.action, e.actor_id) for e in audit]
        reviewers = {get_user(session, n).id for n in ("reviewer1", "reviewer2", "signer")}
    assert sorted(who for action, who in decisions if action == "review.approve") == sorted(reviewers)


def test_gate_findings_are_marked_where_they_stand(browser):
    browser.sign_in("editor")
    item_id = create_item(browser, body="<p>咨询请致电13800138000联系王老师。</p>")
    r = browser.post(f"/console/items/{item_id}/submit")
    assert r.status_code == 422
    assert re.search(r'<mark class="finding rule-mobile"[^>]*>13800138000</mark>', r.text)
    assert "手机号" in r.text
    with session_scope() as session:
        assert session.get(Item, item_id).status == "draft"


def test_a_revision_shows_reviewers_what_changed(browser):
    browser.sign_in("editor")
    item_id = create_item(browser)
    browser.post(f"/console/items/{item_id}/submit")
    browser.get(f"/console/items/{item_id}/edit")
    changed = POLICY_BODY.replace("落实三审三校制度", "落实三审制度")
    r = browser.post(f"/console/items/{item_id}/edit", item_form(body=changed, doc_no="渝府办发〔2019〕65号"))
    assert r.status_code == 303, r.text
    r = browser.post(f"/console/items/{item_id}/edit", item_form(body=changed, doc_no="渝府办发〔2019〕65号"))
    assert r.status_code == 422 and "没有任何修改" in r.text
    browser.post(f"/console/items/{item_id}/submit")
    browser.sign_in("reviewer1")
    page = browser.get(f"/console/review/{item_id}").text
    assert "与第 1 版的差异" in page
    assert "<del>4</del><ins>5</ins>" in page  # 文号 64号 → 65号
    assert "<del>三校</del>" in page


def test_the_live_weibo_count_follows_what_is_typed(browser):
    browser.sign_in("editor")
    browser.get("/console/items/new")
    headers = {"Accept": "application/json", "X-CSRF-Token": browser.token}
    short = browser.http.post("/console/preview/weibo", headers=headers,
                              data={"title": "社区食堂开张", "summary": "老人八折", "body": "<p>正文</p>",
                                    "kind": "news"}).json()
    assert short["fits"] and short["limit"] == 140 and "【社区食堂开张】老人八折" in short["text"]
    assert short["length"] == len("【社区食堂开张】老人八折 ") + 20
    long = browser.http.post("/console/preview/weibo", headers=headers,
                             data={"title": "社区食堂开张", "summary": "长" * 300, "body": "<p>正文</p>",
                                   "kind": "emergency"}).json()
    assert long["length"] == 140 and long["text"].startswith("〔紧急〕") and "…" in long["text"]


def test_images_upload_through_the_console_and_become_the_cover(browser):
    browser.sign_in("editor")
    browser.get("/console/items/new")
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(png, "PNG")
    r = browser.http.post("/console/media", files={"file": ("食堂.png", png.getvalue(), "image/png")},
                          headers={"X-CSRF-Token": browser.token, "Accept": "application/json"})
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    assert browser.http.get(f"/media/{sha}").content == png.getvalue()
    r = browser.http.post("/console/media", files={"file": ("x.txt", b"not an image", "text/plain")},
                          headers={"X-CSRF-Token": browser.token, "Accept": "application/json"})
    assert r.status_code == 422
    item_id = create_item(browser, body=f'<p>新食堂</p><p><img src="/media/{sha}" alt="食堂"></p>', cover=sha)
    assert f'src="/media/{sha}"' in browser.get(f"/console/items/{item_id}").text


def signed_off_in_console(browser) -> int:
    """An item written by the editor and approved at all three levels, through the console's forms."""
    browser.sign_in("editor")
    item_id = create_item(browser)
    browser.post(f"/console/items/{item_id}/submit")
    for who in ("reviewer1", "reviewer2", "signer"):
        browser.sign_in(who)
        browser.get(f"/console/review/{item_id}")
        assert browser.post(f"/console/review/{item_id}", {"decision": "approve"}).status_code == 303
    return item_id


def test_takedown_needs_a_reason_a_confirmation_and_the_right_role(browser):
    item_id = signed_off_in_console(browser)

    browser.sign_in("editor")
    page = browser.get(f"/console/items/{item_id}").text
    assert "撤稿理由" not in page
    r = browser.post(f"/console/items/{item_id}/takedown", {"reason": "文件已废止", "confirm": "yes"})
    assert r.status_code == 403

    browser.sign_in("signer")
    assert "撤稿理由" in browser.get(f"/console/items/{item_id}").text
    r = browser.post(f"/console/items/{item_id}/takedown", {"reason": "文件已废止"})
    assert r.status_code == 422 and "确认" in r.text
    r = browser.post(f"/console/items/{item_id}/takedown", {"reason": " ", "confirm": "yes"})
    assert r.status_code == 422
    r = browser.post(f"/console/items/{item_id}/takedown", {"reason": "文件已废止", "confirm": "yes"})
    assert r.status_code == 303
    with session_scope() as session:
        assert session.get(Item, item_id).status == "withdrawn"
        entry = session.exec(select(AuditEntry).where(AuditEntry.item_id == item_id,
                                                      AuditEntry.action == "item.takedown")).one()
        assert entry.detail["reason"] == "文件已废止" and entry.actor_id == get_user(session, "signer").id


def test_replay_is_for_admins(browser):
    browser.sign_in("editor")
    browser.get("/console/failures")
    r = browser.post("/console/failures/replay", {"delivery": "1"})
    assert r.status_code == 403 and "管理员" in r.text


def _count(model) -> int:
    with session_scope() as session:
        return len(session.exec(select(model)).all())


def test_ck_users_passwd_sets_a_password_from_stdin(settings, room):
    from typer.testing import CliRunner

    from pipeline.cli.main import app as ck

    runner = CliRunner()
    result = runner.invoke(ck, ["users", "passwd", "reviewer2", "--password-stdin"], input="一个新的好密码-2026\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(ck, ["users", "passwd", "reviewer2", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "at least 8" in result.output
    result = runner.invoke(ck, ["users", "passwd", "nobody", "--password-stdin"], input="long-enough-pw\n")
    assert result.exit_code == 1 and "does not exist" in result.output
    from pipeline.console.passwords import authenticate

    with session_scope() as session:
        assert authenticate(session, "reviewer2", "一个新的好密码-2026") is not None
        assert authenticate(session, "reviewer2", PASSWORD) is None
        assert session.exec(select(User).where(User.name == "reviewer2")).one().password_hash.startswith("$argon2id$")


def test_the_failures_list_keeps_its_filters(browser):
    browser.sign_in("admin")
    page = browser.get("/console/failures?channel=wechat&state=dead&since=2026-01-01T08:00").text
    assert 'value="wechat" selected' in page and 'value="2026-01-01T08:00"' in page
    assert re.search(r'id="f-state-dead" name="state" value="dead" checked', page)
    assert not re.search(r'id="f-state-failed" name="state" value="failed" checked', page)
    assert "没有符合条件的失败分发" in page
    r = browser.get("/console/failures?since=yesterday")
    assert r.status_code == 422 and "yesterday" in r.text


def _signed_off_with_ledger(browser: Browser) -> int:
    """An item taken through the console, its outbox event planned into ledger rows by the router's own
    function (what the router agent does with it off Kafka), and the WeChat row failed by its state machine."""
    from pipeline.distribution import ledger
    from pipeline.distribution.routing import plan_deliveries
    from pipeline.store.models import Delivery
    from schemas.delivery import DeliveryState
    from schemas.events import ItemEvent

    item_id = signed_off_in_console(browser)
    with session_scope() as session:
        entry = session.exec(select(OutboxEntry).where(OutboxEntry.item_id == item_id)).one()
        assert len(plan_deliveries(session, ItemEvent.from_bytes(entry.payload.encode()))) == 4
    with session_scope() as session:
        row = session.exec(select(Delivery).where(Delivery.item_id == item_id, Delivery.channel == "wechat")).one()
        assert ledger.claim(session, row, DeliveryState.pending.value)
        ledger.move(session, row, DeliveryState.failed, last_error="WeChat draft/add: errcode 48001 api unauthorized",
                    error_class="permanent")
    return item_id


def test_the_board_the_ledger_story_and_replay_of_one_failure(browser):
    item_id = _signed_off_with_ledger(browser)
    browser.sign_in("admin")
    board = browser.get("/console/board").text
    for target in ("cq-portal", "cq-wechat", "cq-weibo", "cq-app"):
        assert f'data-cell="{item_id}:{target}"' in board, target
    data = browser.http.get("/console/board.json").json()
    states = {key: cell["state"] for key, cell in data["cells"].items()}
    assert states == {f"{item_id}:cq-portal": "pending", f"{item_id}:cq-wechat": "failed",
                      f"{item_id}:cq-weibo": "pending", f"{item_id}:cq-app": "pending"}
    wechat = data["cells"][f"{item_id}:cq-wechat"]["delivery"]
    story = browser.get(f"/console/deliveries/{wechat}?fragment=1").text
    assert "48001" in story and "重放这条分发" in story and "<html" not in story

    failures = browser.get("/console/failures?channel=wechat").text
    assert f'value="{wechat}"' in failures and "48001" in failures
    r = browser.post(f"/console/failures/replay?only={wechat}", {"delivery": "999999"})
    assert r.status_code == 303
    assert "已重放 1 条分发" in browser.get(r.headers["location"]).text
    assert browser.http.get("/console/board.json").json()["cells"][f"{item_id}:cq-wechat"]["state"] == "pending"
    with session_scope() as session:
        replays = session.exec(select(AuditEntry).where(AuditEntry.action == "distribution.replay")).all()
        assert len(replays) == 1 and replays[0].actor_id == get_user(session, "admin").id
        assert len(session.exec(select(OutboxEntry).where(OutboxEntry.item_id == item_id)).all()) == 2


def test_replicas_given_the_same_kitchen_key_accept_each_others_sessions(settings, room, tmp_path):
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    from pipeline.api.app import create_app

    key = SecretStr(Fernet.generate_key().decode())
    first = Browser(create_app(settings.model_copy(update={"secret_key": key, "data_dir": tmp_path / "a"})))
    second = Browser(create_app(settings.model_copy(update={"secret_key": key, "data_dir": tmp_path / "b"})))
    stranger = Browser(create_app(settings.model_copy(update={"data_dir": tmp_path / "c"})))  # a key file of its own
    first.sign_in("editor")
    cookie = first.http.cookies.get(COOKIE)
    for replica, expected in ((second, 200), (stranger, 303)):
        replica.http.cookies.set(COOKIE, cookie)
        assert replica.get("/console/items", follow_redirects=False).status_code == expected
