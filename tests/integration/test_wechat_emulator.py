"""The WeChat emulator, driven over loopback HTTP by the real wechatpy 2.0.0a26 client.

The emulator is the outside world for every WeChat test, so these tests hold it to the platform's
documented behaviour (PLATFORMS.md §1.4–1.7): tokens, error codes and shapes, upload rules,
the draft box, publish jobs, deletion, and the scripted faults the connector tests rely on.
"""

import json
import re
import time

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import APILimitedException, WeChatClientException

from connectors.sandbox.server import ServerThread
from connectors.wechat.client import CKWeChatClient
from connectors.wechat.emulator import EmulatorConfig, create_app
from tests.integration.wechat_items import jpeg, png_chart

APPID, SECRET = "wx5f2e8c1a9b3d7e60", "3f9a7c2e5b8d1f4a6c0e9b2d5f8a1c3e"
OTHER, OTHER_SECRET = "wx0a1b2c3d4e5f6a7b", "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
RID = re.compile(r" rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$")


@pytest.fixture(scope="module")
def server():
    config = EmulatorConfig(accounts={APPID: SECRET, OTHER: OTHER_SECRET}, token_grace_s=0, publish_delay_ms=200)
    with ServerThread(create_app(config)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def clean(server):
    requests.post(f"{server.url}/_sandbox/reset", timeout=5).raise_for_status()


def faults(server, **settings) -> dict:
    reply = requests.post(f"{server.url}/_sandbox/faults", json=settings, timeout=5)
    reply.raise_for_status()
    return reply.json()


def log(server, path: str) -> list[dict]:
    return requests.get(f"{server.url}/_sandbox/requests", params={"path": path}, timeout=5).json()


def posts(server) -> list[dict]:
    return requests.get(f"{server.url}/_sandbox/posts", timeout=5).json()


def client(server, appid=APPID, secret=SECRET, **kwargs) -> CKWeChatClient:
    kwargs.setdefault("timeout", 5)
    return CKWeChatClient(appid, secret, api_base_url=f"{server.url}/cgi-bin/", **kwargs)


def stock_client(server, appid=APPID, secret=SECRET, **kwargs) -> WeChatClient:
    """Upstream wechatpy, pointed at the emulator: the class attribute, and its own GET token code."""

    class EmulatedWeChat(WeChatClient):
        API_BASE_URL = f"{server.url}/cgi-bin/"

        def fetch_access_token(self):
            return self._fetch_access_token(
                url=f"{server.url}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return EmulatedWeChat(appid, secret, timeout=5, **kwargs)


def errcode(call) -> int:
    with pytest.raises(WeChatClientException) as caught:
        call()
    return caught.value.errcode


def api(server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}/cgi-bin/{path}", timeout=5, **kwargs)


def cover_id(wechat) -> str:
    return wechat.material.add("image", ("cover.jpg", jpeg(900, 383, (200, 30, 30)), "image/jpeg"))["media_id"]


def article(thumb_media_id: str, **fields) -> dict:
    return {
        "title": "重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知",
        "author": "重庆市人民政府办公厅",
        "digest": "进一步加强政府网站信息内容建设。",
        "content": "<p>各区县（自治县）人民政府，市政府各部门：</p><p>现将有关事项通知如下。</p>",
        "content_source_url": "https://www.cq.gov.cn/sites/cqgov/xxgk/201906/t20190620_6401.html",
        "thumb_media_id": thumb_media_id,
    } | fields


def published(wechat, publish_id: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = wechat.freepublish.get(publish_id)
        if status["publish_status"] != 1 or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


# ---------------------------------------------------------------------- tokens


def test_get_token_rotates_and_checks_credentials(server):
    wechat = stock_client(server)
    first = wechat.fetch_access_token()
    assert first["expires_in"] == 7200 and len(first["access_token"]) > 100
    second = wechat.fetch_access_token()
    assert second["access_token"] != first["access_token"]
    assert wechat.draft.count() == {"total_count": 0}
    old = stock_client(server, access_token=first["access_token"], auto_retry=False)
    assert errcode(old.draft.count) == 40001  # replaced (grace period 0 in this emulator)

    assert errcode(stock_client(server, secret="wrong").fetch_access_token) == 40125
    assert errcode(stock_client(server, appid="wx_nobody").fetch_access_token) == 40013
    assert errcode(stock_client(server, secret="").fetch_access_token) == 41004


def test_get_token_has_a_daily_quota():
    config = EmulatorConfig(accounts={APPID: SECRET}, token_daily_limit=2)
    with ServerThread(create_app(config)) as srv:
        wechat = stock_client(srv)
        wechat.fetch_access_token()
        wechat.fetch_access_token()
        assert errcode(wechat.fetch_access_token) == 45009


def test_stable_token_is_the_same_for_every_caller_until_forced(server):
    one, two = client(server), client(server)  # two workers, two separate token caches
    token = one.fetch_access_token()
    assert two.fetch_access_token()["access_token"] == token["access_token"]
    assert 7000 < token["expires_in"] <= 7200
    assert one.draft.count() == two.draft.count() == {"total_count": 0}

    stock_client(server).fetch_access_token()  # GET token tokens live apart from stable ones
    assert one.draft.count() == {"total_count": 0}

    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, "force_refresh": True}
    forced = api(server, "POST", "stable_token", json=body).json()
    assert forced["access_token"] != token["access_token"]
    replaced = stock_client(server, access_token=token["access_token"], auto_retry=False)
    assert errcode(replaced.draft.count) == 40001  # forcing replaced it (grace period 0 here)
    assert api(server, "GET", "stable_token").json()["errcode"] == 43002


def test_every_api_checks_the_access_token(server):
    def draft_count(token: str | None) -> requests.Response:
        return api(server, "GET", "draft/count", params={"access_token": token} if token else {})

    missing = draft_count(None)
    assert missing.status_code == 200
    assert missing.headers["content-type"] == "application/json; encoding=utf-8"
    assert missing.json()["errcode"] == 41001 and RID.search(missing.json()["errmsg"])
    assert draft_count("not a token!").json()["errcode"] == 40014
    assert draft_count("92_" + "A" * 100).json()["errcode"] == 40001

    token = client(server).fetch_access_token()["access_token"]
    assert draft_count(token).json() == {"total_count": 0}
    assert faults(server, expire_tokens=True)["expire_tokens"] is True
    assert draft_count(token).json()["errcode"] == 42001
    assert client(server).fetch_access_token()["access_token"] != token  # the expired one is replaced


# ---------------------------------------------------------------------- wire format


def test_json_bodies_need_no_content_type(server):
    wechat = client(server)
    token = wechat.access_token
    thumb = cover_id(wechat)
    raw = json.dumps({"articles": [article(thumb)]}, ensure_ascii=False).encode("utf-8")
    reply = api(server, "POST", "draft/add", params={"access_token": token}, data=raw)  # no Content-Type header
    assert "media_id" in reply.json()
    assert log(server, "draft/add")[-1]["warning"] is None

    escaped = json.dumps({"articles": [article(thumb)]}).encode()  # \\u escapes, which WeChat asks us not to send
    assert "media_id" in api(server, "POST", "draft/add", params={"access_token": token}, data=escaped).json()
    assert "unicode escapes" in log(server, "draft/add")[-1]["warning"]

    assert api(server, "POST", "draft/add", params={"access_token": token}, data=b"{oops").json()["errcode"] == 47001
    assert api(server, "POST", "draft/add", params={"access_token": token}, data=b"").json()["errcode"] == 44002
    assert api(server, "GET", "draft/add", params={"access_token": token}).json()["errcode"] == 43002
    assert api(server, "POST", "draft/count", params={"access_token": token}).json()["errcode"] == 43001
    assert api(server, "POST", "no/such/api", params={"access_token": token}).status_code == 404


# ---------------------------------------------------------------------- uploads


def test_permanent_material_rules(server):
    wechat = client(server)
    image = wechat.material.add("image", ("cover.jpg", jpeg(900, 383, (1, 2, 3)), "image/jpeg"))
    assert image["media_id"] and image["url"].startswith("http://mmbiz.qpic.cn/mmbiz_jpg/")
    thumb = wechat.material.add("thumb", ("thumb.jpg", jpeg(200, 200, (9, 9, 9)), "image/jpeg"))
    assert thumb["media_id"] and thumb["url"] == ""
    assert wechat.material.add("image", ("chart.png", png_chart(), "image/png"))["media_id"]

    big = jpeg(600, 600, (0, 0, 0), quality=95, noise=True)
    assert len(big) > 64 * 1024
    assert errcode(lambda: wechat.material.add("thumb", ("thumb.jpg", big, "image/jpeg"))) == 40012
    assert errcode(lambda: wechat.material.add("thumb", ("thumb.png", png_chart(), "image/png"))) == 40005
    assert errcode(lambda: wechat.material.add("image", ("cover", jpeg(10, 10, (0, 0, 0)), "image/jpeg"))) == 40005
    assert errcode(lambda: wechat.material.add("image", ("cover.jpg", b"%PDF-1.7", "image/jpeg"))) == 40005
    assert errcode(lambda: wechat.material.add("voice", ("a.jpg", jpeg(10, 10, (0, 0, 0)), "image/jpeg"))) == 40004
    assert errcode(lambda: wechat.material.add("image", ("cover.jpg", b"", "image/jpeg"))) == 44001
    assert errcode(lambda: wechat.post("material/add_material", params={"type": "image"}, data={})) == 41005


def test_content_images_must_come_from_uploadimg(server):
    wechat = client(server)
    url = wechat.media.upload_image(("photo.jpg", jpeg(640, 480, (0, 90, 0)), "image/jpeg"))
    assert re.fullmatch(r"http://mmbiz\.qpic\.cn/mmbiz_jpg/[\w-]+/0\?wx_fmt=jpeg", url)
    chart_url = wechat.media.upload_image(("chart.png", png_chart(), "image/png"))
    assert chart_url.startswith("http://mmbiz.qpic.cn/mmbiz_png/")
    gif = b"GIF89a" + b"\0" * 100
    assert errcode(lambda: wechat.media.upload_image(("a.gif", gif, "image/gif"))) == 40005
    huge = jpeg(1400, 1000, (0, 0, 0), quality=95, noise=True)
    assert len(huge) >= 1024 * 1024
    assert errcode(lambda: wechat.media.upload_image(("huge.jpg", huge, "image/jpeg"))) == 40009

    content = (
        f'<p>现场<img src="{url}"></p><p><img src="{url.replace("http:", "https:")}"></p>'
        '<p><img src="https://www.cq.gov.cn/images/photo.jpg" alt="外链"></p>'
        '<p onclick="steal()">正文<img src="x" onerror="alert(1)"></p><script>alert("统计")</script>'
        '<p><a href="javascript:alert(1)">链接</a></p>'
    )
    media_id = wechat.draft.add([article(cover_id(wechat), content=content)])["media_id"]
    kept = wechat.draft.get(media_id)["news_item"][0]["content"]
    assert kept.count("<img") == 2 and url in kept
    assert "cq.gov.cn/images" not in kept and "onerror" not in kept and "onclick" not in kept
    assert "<script" not in kept and "javascript:" not in kept and "正文" in kept


def test_wechatpy_retry_with_a_file_object_sends_an_empty_part(server, tmp_path):
    """The upstream trap (PLATFORMS.md §0.3): auto_retry re-sends an already-read file."""
    path = tmp_path / "cover.jpg"
    path.write_bytes(jpeg(900, 383, (10, 10, 10)))
    stock = stock_client(server)
    stock.fetch_access_token()
    faults(server, expire_tokens=True)
    with open(path, "rb") as cover:
        assert errcode(lambda: stock.material.add("image", cover)) == 44001
    assert [r["errcode"] for r in log(server, "material/add_material")] == [42001, 44001]

    ours = client(server)
    with open(path, "rb") as cover, pytest.raises(TypeError, match="bytes"):
        ours.material.add("image", cover)
    ours.fetch_access_token()
    faults(server, expire_tokens=True)
    assert ours.material.add("image", ("cover.jpg", path.read_bytes(), "image/jpeg"))["media_id"]
    assert [r["errcode"] for r in log(server, "material/add_material")][-2:] == [42001, 0]


# ---------------------------------------------------------------------- drafts


def test_draft_limits(server):
    wechat = client(server)
    thumb = cover_id(wechat)
    limits = {"title": ("题" * 32, 45003), "author": ("者" * 16, 45110), "digest": ("摘" * 128, 45004)}
    for name, (at_limit, code) in limits.items():
        assert wechat.draft.add([article(thumb, **{name: at_limit})])["media_id"]
        assert errcode(lambda: wechat.draft.add([article(thumb, **{name: at_limit + "多"})])) == code
    assert errcode(lambda: wechat.draft.add([article("no-such-media")])) == 40007
    assert errcode(lambda: wechat.draft.add([article(thumb, content="")])) == 44004
    assert errcode(lambda: wechat.draft.add([article(thumb, title="  ")])) == 44003
    assert errcode(lambda: wechat.draft.add([article(thumb, content="<p>长</p>" * 3000)])) == 45002
    assert errcode(lambda: wechat.draft.add([article(thumb, content_source_url="https://a.cn/" + "x" * 1100)])) == 45005
    assert errcode(lambda: wechat.post("draft/add", data={"articles": []})) == 44003
    assert errcode(lambda: wechat.post("draft/add", data={"articles": [article(thumb)] * 9})) == 45008

    media_id = wechat.draft.add([article(thumb, digest="")])["media_id"]
    assert wechat.draft.get(media_id)["news_item"][0]["digest"] == "各区县（自治县）人民政府，市政府各部门： 现将有关事项通知如下。"


def test_draft_box(server):
    wechat = client(server)
    thumb = cover_id(wechat)
    first = wechat.draft.add([article(thumb)])["media_id"]
    second = wechat.draft.add([article(thumb, title="第二篇")])["media_id"]
    assert wechat.draft.count() == {"total_count": 2}

    stored = wechat.draft.get(first)["news_item"][0]
    assert stored["title"] == article(thumb)["title"] and stored["thumb_url"].startswith("http://mmbiz.qpic.cn/")
    assert stored["url"].startswith("http://mp.weixin.qq.com/s?")

    assert wechat.draft.update(first, 0, article(thumb, title="修改后的标题"))["errcode"] == 0
    assert wechat.draft.get(first)["news_item"][0]["title"] == "修改后的标题"
    assert errcode(lambda: wechat.draft.update(first, 1, article(thumb))) == 40114

    listing = wechat.draft.batchget(0, 20, 1)
    assert listing["total_count"] == listing["item_count"] == 2
    assert {i["media_id"] for i in listing["item"]} == {first, second}
    assert all("content" not in n for i in listing["item"] for n in i["content"]["news_item"])
    assert errcode(lambda: wechat.draft.batchget(0, 21)) == 40097

    assert wechat.draft.delete(second) == {"errcode": 0, "errmsg": "ok"}
    assert errcode(lambda: wechat.draft.delete(second)) == 40007
    assert wechat.draft.count() == {"total_count": 1}
    assert errcode(lambda: client(server, OTHER, OTHER_SECRET).draft.get(first)) == 40007  # accounts are apart


# ---------------------------------------------------------------------- publishing


def test_publish_job_runs_in_the_background(server):
    wechat = client(server)
    media_id = wechat.draft.add([article(cover_id(wechat))])["media_id"]
    submitted = wechat.freepublish.submit(media_id)
    assert submitted["errcode"] == 0 and isinstance(submitted["publish_id"], str) and submitted["msg_data_id"]
    assert wechat.draft.count() == {"total_count": 0}  # the draft left the box
    assert errcode(lambda: wechat.freepublish.submit(media_id)) == 40007

    running = wechat.freepublish.get(submitted["publish_id"])
    assert running == {"publish_id": submitted["publish_id"], "publish_status": 1, "fail_idx": []}
    assert posts(server) == []

    done = published(wechat, submitted["publish_id"])
    assert done["publish_status"] == 0 and done["fail_idx"] == []
    url = done["article_detail"]["item"][0]["article_url"]
    assert url == f"https://mp.weixin.qq.com/s/{done['article_id']}" and done["article_detail"]["count"] == 1

    news = wechat.freepublish.getarticle(done["article_id"])["news_item"][0]
    assert news["is_deleted"] is False and news["url"] == url and news["title"] == article("")["title"]
    listing = wechat.freepublish.batchget(0, 20, 1)
    assert listing["total_count"] == 1 and listing["item"][0]["article_id"] == done["article_id"]

    [post] = posts(server)
    assert post["appid"] == APPID and post["article_id"] == done["article_id"] and post["deleted"] is False
    assert post["content_source_url"] == article("")["content_source_url"]
    assert post["publish_id"] == submitted["publish_id"]
    assert errcode(lambda: wechat.freepublish.get("999")) == 53502
    assert errcode(lambda: client(server, OTHER, OTHER_SECRET).freepublish.get(submitted["publish_id"])) == 53502


@pytest.mark.parametrize("outcome, fail_idx", [(2, [1]), (3, []), (4, [1])])
def test_publish_jobs_can_fail(server, outcome, fail_idx):
    faults(server, publish_outcome=outcome, publish_delay_ms=0)
    wechat = client(server)
    publish_id = wechat.freepublish.submit(wechat.draft.add([article(cover_id(wechat))])["media_id"])["publish_id"]
    status = wechat.freepublish.get(publish_id)
    assert status == {"publish_id": publish_id, "publish_status": outcome, "fail_idx": fail_idx}
    assert posts(server) == []


def test_deleting_a_published_article(server):
    faults(server, publish_delay_ms=0)
    wechat = client(server)
    publish_id = wechat.freepublish.submit(wechat.draft.add([article(cover_id(wechat))])["media_id"])["publish_id"]
    article_id = wechat.freepublish.get(publish_id)["article_id"]
    assert errcode(lambda: client(server, OTHER, OTHER_SECRET).freepublish.delete(article_id)) == 53600

    assert wechat.freepublish.delete(article_id, 0) == {"errcode": 0, "errmsg": "ok"}
    assert wechat.freepublish.getarticle(article_id)["news_item"][0]["is_deleted"] is True
    assert wechat.freepublish.get(publish_id)["publish_status"] == 5
    assert wechat.freepublish.batchget(0, 20)["total_count"] == 0
    assert [p["deleted"] for p in posts(server)] == [True]
    assert errcode(lambda: wechat.freepublish.delete(article_id, 0)) == 53600
    assert errcode(lambda: wechat.freepublish.delete("no-such-article")) == 53600


# ---------------------------------------------------------------------- faults and controls


def test_next_n_faults_hit_only_the_named_paths(server):
    wechat = client(server)
    plan = faults(server, error_rate=1, codes=[-1, 45009], next_n=2, only_paths=["draft/count"])
    assert plan["remaining"] == 2
    assert errcode(wechat.draft.count) == -1
    with pytest.raises(APILimitedException):  # wechatpy's own class for 45009
        wechat.draft.count()
    assert wechat.draft.count() == {"total_count": 0}
    assert faults_now(server)["remaining"] is None
    assert [r["fault"] for r in log(server, "draft/count")] == ["errcode", "errcode", None]
    assert all(r["fault"] is None for r in log(server, "stable_token"))


def faults_now(server) -> dict:
    return requests.get(f"{server.url}/_sandbox/faults", timeout=5).json()


def test_http_500_and_latency(server):
    wechat = client(server)
    wechat.fetch_access_token()
    faults(server, http_500_rate=1, endpoints=["draft/count"])  # `endpoints`, as the Weibo emulator names it
    with pytest.raises(WeChatClientException) as caught:
        wechat.draft.count()
    assert caught.value.errcode is None and caught.value.response.status_code == 500

    faults(server, latency_ms=300)
    started = time.monotonic()
    assert wechat.draft.count() == {"total_count": 0}
    assert time.monotonic() - started >= 0.3


def test_seeded_faults_repeat_exactly(server):
    wechat = client(server)
    wechat.fetch_access_token()

    def pattern() -> list[bool]:
        faults(server, error_rate=0.5, seed=2019, only_paths=["draft/count"])
        outcome = []
        for _ in range(16):
            try:
                wechat.draft.count()
                outcome.append(True)
            except WeChatClientException:
                outcome.append(False)
        return outcome

    first = pattern()
    assert first == pattern() and True in first and False in first


def test_timeout_after_effect_does_the_work_then_stalls(server):
    wechat = client(server, timeout=0.5)
    media_id = wechat.draft.add([article(cover_id(wechat))])["media_id"]
    faults(server, timeout_after_effect_rate=1, only_paths=["freepublish/submit"], next_n=1, publish_delay_ms=0)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        wechat.freepublish.submit(media_id)
    assert time.monotonic() - started < 3
    assert [r["fault"] for r in log(server, "freepublish/submit")] == ["timeout_after_effect"]
    assert len(posts(server)) == 1  # it happened although the client saw no answer
    assert wechat.draft.count() == {"total_count": 0}


def test_fault_settings_are_checked(server):
    for bad in ({"error_rate": 2}, {"bogus": 1}, {"publish_outcome": 1}, {"next_n": 0}, {"codes": []}):
        assert requests.post(f"{server.url}/_sandbox/faults", json=bad, timeout=5).status_code == 400
    assert faults_now(server)["error_rate"] == 0


def test_reset_forgets_everything(server):
    faults(server, publish_delay_ms=0, latency_ms=1)
    wechat = client(server)
    token = wechat.access_token
    wechat.freepublish.submit(wechat.draft.add([article(cover_id(wechat))])["media_id"])
    assert len(posts(server)) == 1
    requests.post(f"{server.url}/_sandbox/reset", timeout=5).raise_for_status()
    assert posts(server) == [] and log(server, "") == []
    assert faults_now(server)["latency_ms"] == 0 and faults_now(server)["publish_delay_ms"] == 200
    assert api(server, "GET", "draft/count", params={"access_token": token}).json()["errcode"] == 40001
