"""The Weibo emulator, driven over loopback by our real httpx client (and raw httpx for the odd shapes)."""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest

from connectors.sandbox.server import ServerThread
from connectors.weibo.client import WeiboClient
from connectors.weibo.emulator import EmulatorConfig, WeiboAccount, create_app
from connectors.weibo.errors import (
    WeiboAPIError,
    WeiboAuthError,
    WeiboBadResponseError,
    WeiboContentError,
    WeiboDuplicateError,
    WeiboNoResponseError,
    WeiboPending,
    WeiboRateLimitError,
)
from tests.integration.weibo_items import PORTAL, SAFE_DOMAIN, jpeg_bytes, png_bytes

CITY = WeiboAccount("tok-city", "2803301701", "滨江发布")
OTHER = WeiboAccount("tok-other", "1900000002", "滨江应急管理")
EXPIRED = WeiboAccount("tok-expired", "1900000003", "滨江旧账号", expires_in=-1)
RIP = "211.156.0.1"
LINK = f"{PORTAL}/sites/main/xwfb/202503/t20250314_1.html"


@pytest.fixture(scope="module")
def server():
    config = EmulatorConfig(
        accounts=[CITY, OTHER, EXPIRED],
        safe_domains=[SAFE_DOMAIN],
        posts_per_hour=5,
        max_pic_bytes=200_000,
        forbidden_words=["法轮"],
    )
    with ServerThread(create_app(config)) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(server):
    httpx.post(f"{server.url}/_sandbox/reset").raise_for_status()


def client(server, account=CITY, timeout=5.0) -> WeiboClient:
    return WeiboClient(account.access_token, base_url=f"{server.url}/2/", timeout=timeout)


def faults(server, **settings):
    httpx.post(f"{server.url}/_sandbox/faults", json=settings).raise_for_status()


def posts(server) -> list[dict]:
    return httpx.get(f"{server.url}/_sandbox/posts").json()


def test_share_returns_a_status_with_a_big_id_kept_as_a_string(server):
    text = f"【滨江发布】一季度全市经济运行稳中有进，详见“滨江市人民政府”门户网站。 {LINK}"
    with client(server) as c:
        status = c.share(text, rip=RIP)

    assert isinstance(status["idstr"], str)
    assert int(status["idstr"]) > 2**53
    assert status["idstr"] == str(status["id"]) == status["mid"]
    assert status["text"] == text  # Chinese survives form encoding exactly once
    created = datetime.strptime(status["created_at"], "%a %b %d %H:%M:%S %z %Y")
    assert created.utcoffset().total_seconds() == 8 * 3600
    assert status["user"]["idstr"] == CITY.uid and status["user"]["screen_name"] == "滨江发布"
    assert not any(k.endswith("_pic") for k in status)
    assert posts(server) == [
        {
            "uid": CITY.uid,
            "idstr": status["idstr"],
            "text": text,
            "created_at": status["created_at"],
            "deleted": False,
            "pic_sha256": None,
        }
    ]


@pytest.mark.parametrize("make_pic", [jpeg_bytes, png_bytes])
def test_share_with_a_picture_is_multipart_and_answers_pic_urls(server, make_pic):
    pic = make_pic()
    with client(server) as c:
        status = c.share(f"【图片新闻】春日滨江 {LINK}", pic=pic, rip=RIP)
    assert status["original_pic"].startswith("https://") and status["thumbnail_pic"] and status["bmiddle_pic"]
    assert posts(server)[0]["pic_sha256"] == hashlib.sha256(pic).hexdigest()


def test_picture_type_and_size_are_checked(server):
    with client(server) as c:
        with pytest.raises(WeiboAPIError) as bad_type:
            c.share(f"【图片】 {LINK}", pic=b"RIFF\x00\x00\x00\x00WEBPVP8 ", rip=RIP)
        with pytest.raises(WeiboAPIError) as too_big:
            c.share(f"【图片】 {LINK}", pic=jpeg_bytes(1600, 1600, (1, 2, 3)) + b"\x00" * 200_000, rip=RIP)
    assert bad_type.value.error_code == 20005
    assert too_big.value.error_code == 20006
    assert posts(server) == []


def test_token_is_accepted_in_header_query_or_form(server):
    url = f"{server.url}/2/statuses/share.json"
    by_query = httpx.post(url, params={"access_token": CITY.access_token}, data={"status": f"查询参数 {LINK}", "rip": RIP})
    by_form = httpx.post(url, data={"access_token": CITY.access_token, "status": f"表单参数 {LINK}", "rip": RIP})
    assert by_query.status_code == by_form.status_code == 200
    with client(server) as c:
        c.share(f"请求头 {LINK}", rip=RIP)
    assert len(posts(server)) == 3


def test_missing_unknown_and_expired_tokens_are_refused(server):
    missing = httpx.post(f"{server.url}/2/statuses/share.json", data={"status": f"无令牌 {LINK}", "rip": RIP})
    assert missing.status_code == 401
    assert missing.json() == {"error": "auth faild!", "error_code": 21301, "request": "/2/statuses/share.json"}

    with WeiboClient("no-such-token", base_url=f"{server.url}/2/") as c:
        with pytest.raises(WeiboAuthError) as unknown:
            c.share(f"测试 {LINK}", rip=RIP)
    assert (unknown.value.error_code, unknown.value.error, unknown.value.http_status) == (
        21332,
        "invalid_access_token",
        401,
    )

    with client(server, EXPIRED) as c:
        with pytest.raises(WeiboAuthError) as expired:
            c.share(f"测试 {LINK}", rip=RIP)
    assert (expired.value.error_code, expired.value.error, expired.value.http_status) == (21327, "expired_token", 403)
    assert expired.value.request == "/2/statuses/share.json"
    assert posts(server) == []


def test_expire_tokens_fault_lasts_until_reset(server):
    faults(server, expire_tokens=True)
    with client(server) as c:
        with pytest.raises(WeiboAuthError) as exc:
            c.show("1")
        assert exc.value.error_code == 21327
        with pytest.raises(WeiboAuthError):
            c.token_info()
        httpx.post(f"{server.url}/_sandbox/reset")
        assert c.token_info()["uid"] == int(CITY.uid)


@pytest.mark.parametrize(
    "text",
    [
        "【滨江发布】没有任何链接的文字",
        "【滨江发布】详见 https://www.example.com/news/1.html",
        f"【滨江发布】仿冒域名 https://www.{SAFE_DOMAIN}.evil.com/1.html",
        f"【滨江发布】不是链接 www.{SAFE_DOMAIN}/1.html",
    ],
)
def test_status_must_link_the_safe_domain(server, text):
    with client(server) as c:
        with pytest.raises(WeiboContentError) as exc:
            c.share(text, rip=RIP)
    assert (exc.value.error_code, exc.value.error, exc.value.http_status) == (10017, "text not find domain!", 400)


def test_safe_domain_covers_its_subdomains(server):
    with client(server) as c:
        c.share(f"【滨江发布】子域名 https://zwgk.{SAFE_DOMAIN}/a.html", rip=RIP)
        c.share(f"【滨江发布】本域名 http://{SAFE_DOMAIN}/b.html", rip=RIP)
    assert len(posts(server)) == 2


def test_length_counts_characters_with_each_url_as_twenty(server):
    long_link = f"{PORTAL}/sites/main/zcjd/202503/" + "x" * 150 + ".html"
    fits = "政" * 119 + " " + long_link  # 119 + 1 + 20 = 140
    with client(server) as c:
        c.share(fits, rip=RIP)
        with pytest.raises(WeiboContentError) as exc:
            c.share("务" * 120 + " " + long_link, rip=RIP)
    assert exc.value.error_code == 20012 and exc.value.http_status == 400
    assert "140" in exc.value.error


def test_identical_text_is_20019_and_near_identical_20017(server):
    text = f"【通知】关于调整公交线路的公告，请市民留意。 {LINK}"
    with client(server) as c:
        first = c.share(text, rip=RIP)
        with pytest.raises(WeiboDuplicateError) as identical:
            c.share(text, rip=RIP)
        with pytest.raises(WeiboDuplicateError) as similar:
            c.share(f"【通知】 关于调整公交线路的公告,请市民留意! {LINK}", rip=RIP)
        with client(server, OTHER) as other:
            other.share(text, rip=RIP)  # another account may say the same
        c.destroy(first["idstr"])
        c.share(text, rip=RIP)  # once deleted, the text may be posted again
    assert identical.value.error_code == 20019 and identical.value.error == "Repeat conetnt!"
    assert similar.value.error_code == 20017
    assert len([p for p in posts(server) if p["text"] == text]) == 3


def test_rip_is_required_unless_configured_otherwise(server):
    with client(server) as c:
        with pytest.raises(WeiboAPIError) as missing:
            c.share(f"无rip {LINK}")
        with pytest.raises(WeiboAPIError) as invalid:
            c.share(f"坏rip {LINK}", rip="not-an-ip")
    assert missing.value.error_code == 10016 and "rip" in missing.value.error
    assert invalid.value.error_code == 10017

    relaxed = EmulatorConfig(accounts=[CITY], safe_domains=[SAFE_DOMAIN], require_rip=False)
    with ServerThread(create_app(relaxed)) as other_server, client(other_server) as c:
        assert c.share(f"无rip {LINK}")["idstr"]


def test_forbidden_words_are_21602(server):
    with client(server) as c:
        with pytest.raises(WeiboContentError) as exc:
            c.share(f"含法轮字样 {LINK}", rip=RIP)
    assert exc.value.error_code == 21602


def test_hourly_posting_limit_per_user(server):
    with client(server) as c:
        for n in range(5):
            c.share(f"第{n}条 {LINK}", rip=RIP)
        with pytest.raises(WeiboRateLimitError) as exc:
            c.share(f"第6条 {LINK}", rip=RIP)
        with client(server, OTHER) as other:
            other.share(f"另一账号不受影响 {LINK}", rip=RIP)
    assert (exc.value.error_code, exc.value.http_status) == (10024, 403)


def test_destroy_and_show(server):
    with client(server) as c, client(server, OTHER) as other:
        mine = c.share(f"待删除 {LINK}", rip=RIP)
        theirs = other.share(f"别人的 {LINK}", rip=RIP)

        assert c.show(mine["idstr"])["text"] == f"待删除 {LINK}"
        assert c.show(theirs["idstr"])["user"]["idstr"] == OTHER.uid  # public posts can be read

        with pytest.raises(WeiboAPIError) as not_mine:
            c.destroy(theirs["idstr"])
        assert not_mine.value.error_code == 20102

        deleted = c.destroy(mine["idstr"])
        assert deleted["idstr"] == mine["idstr"]
        for call in (c.destroy, c.show):
            with pytest.raises(WeiboAPIError) as gone:
                call(mine["idstr"])
            assert gone.value.error_code == 20101
    assert [p["deleted"] for p in posts(server)] == [True, False]


def test_user_timeline_is_own_live_posts_newest_first(server):
    with client(server) as c, client(server, OTHER) as other:
        ids = [c.share(f"时间线{n} {LINK}", rip=RIP)["idstr"] for n in range(4)]
        other.share(f"别人的时间线 {LINK}", rip=RIP)
        c.destroy(ids[1])
        timeline = c.user_timeline()
        page2 = c.user_timeline(count=2, page=2)
    assert [s["idstr"] for s in timeline["statuses"]] == [ids[3], ids[2], ids[0]]
    assert timeline["total_number"] == 3
    assert [s["idstr"] for s in page2["statuses"]] == [ids[0]]


def test_token_info_is_outside_the_2_prefix(server):
    with client(server) as c:
        info = c.token_info()
    assert info["uid"] == int(CITY.uid)
    assert set(info) == {"uid", "appkey", "scope", "create_at", "expire_in"}
    assert 29 * 86400 < info["expire_in"] <= 30 * 86400


@pytest.mark.parametrize("path", ["statuses/update.json", "statuses/upload.json", "statuses/upload_url_text.json"])
def test_legacy_post_endpoints_are_closed(server, path):
    with client(server) as c:
        with pytest.raises(WeiboAPIError) as exc:
            c.post(path, data={"status": f"旧接口 {LINK}"})
    assert (exc.value.error_code, exc.value.error, exc.value.http_status) == (
        10014,
        "Insufficient app permissions!",
        403,
    )
    assert exc.value.request == f"/2/{path}"


def test_unknown_api_and_wrong_method(server):
    with client(server) as c:
        with pytest.raises(WeiboAPIError) as unknown:
            c.get("statuses/home_timeline_v9.json")
        with pytest.raises(WeiboAPIError) as method:
            c.get("statuses/share.json")
    assert unknown.value.error_code == 10020
    assert method.value.error_code == 10021


def test_html_502_and_bare_500_are_clear_errors(server):
    faults(server, html_502_rate=1.0, next_n=1)
    with client(server) as c:
        with pytest.raises(WeiboBadResponseError) as bad_gateway:
            c.share(f"网关 {LINK}", rip=RIP)
        faults(server, http_500_rate=1.0, next_n=1)
        with pytest.raises(WeiboBadResponseError) as crashed:
            c.show("1")
        assert c.share(f"恢复 {LINK}", rip=RIP)["idstr"]
    assert bad_gateway.value.http_status == 502 and "text/html" in bad_gateway.value.content_type
    assert "502 Bad Gateway" in bad_gateway.value.snippet
    assert crashed.value.http_status == 500
    assert len(posts(server)) == 1


def test_coded_faults_apply_to_the_next_n_calls_only(server):
    faults(server, error_rate=1.0, codes=[10023], next_n=2)
    with client(server) as c:
        for _ in range(2):
            with pytest.raises(WeiboRateLimitError) as exc:
                c.share(f"限流 {LINK}", rip=RIP)
            assert exc.value.error_code == 10023 and exc.value.http_status == 403
        c.share(f"限流 {LINK}", rip=RIP)
    assert len(posts(server)) == 1


def test_faults_can_target_one_endpoint(server):
    faults(server, error_rate=1.0, codes=[10001], endpoints=["statuses/share.json"])
    with client(server) as c:
        assert c.user_timeline()["statuses"] == []
        with pytest.raises(WeiboAPIError) as exc:
            c.share(f"系统错误 {LINK}", rip=RIP)
    assert (exc.value.error_code, exc.value.http_status) == (10001, 500)


def test_20032_posts_but_answers_pending(server):
    faults(server, error_rate=1.0, codes=[20032], next_n=1)
    with client(server) as c:
        with pytest.raises(WeiboPending) as exc:
            c.share(f"服务器繁忙 {LINK}", rip=RIP)
        assert c.user_timeline()["statuses"][0]["text"] == f"服务器繁忙 {LINK}"
    assert exc.value.error_code == 20032
    assert len(posts(server)) == 1


def test_timeout_after_effect_posts_then_stalls(server):
    faults(server, timeout_after_effect_rate=1.0, stall_ms=5000, next_n=1)
    with client(server, timeout=0.5) as c:
        with pytest.raises(WeiboNoResponseError):
            c.share(f"超时 {LINK}", rip=RIP)
    assert [p["text"] for p in posts(server)] == [f"超时 {LINK}"]


def test_latency_fault_slows_calls(server):
    faults(server, latency_ms=300, next_n=1)
    with client(server, timeout=0.1) as c:
        with pytest.raises(WeiboNoResponseError):
            c.user_timeline()
        assert c.user_timeline()["statuses"] == []


def test_string_error_codes_are_parsed(server):
    faults(server, string_codes=True)
    raw = httpx.post(f"{server.url}/2/statuses/update.json")
    assert raw.json()["error_code"] == "10014"
    with client(server) as c:
        with pytest.raises(WeiboAPIError) as exc:
            c.post("statuses/update.json")
    assert exc.value.error_code == 10014


def test_seeded_faults_are_repeatable(server):
    def outcomes() -> list[bool]:
        faults(server, error_rate=0.5, codes=[10002], seed=7, endpoints=["statuses/user_timeline.json"])
        results = []
        with client(server) as c:
            for _ in range(12):
                try:
                    c.user_timeline()
                    results.append(True)
                except WeiboAPIError:
                    results.append(False)
        return results

    first = outcomes()
    assert first == outcomes()
    assert True in first and False in first


def test_fault_settings_are_validated_and_readable(server):
    assert httpx.post(f"{server.url}/_sandbox/faults", json={"eror_rate": 1}).status_code == 400
    assert httpx.post(f"{server.url}/_sandbox/faults", json={"error_rate": 2}).status_code == 400
    faults(server, error_rate=1.0, codes=[10001], only_paths=["statuses/show.json"], next_n=3)
    with client(server) as c:
        with pytest.raises(WeiboAPIError):
            c.show("1")
    settings = httpx.get(f"{server.url}/_sandbox/faults").json()
    assert settings["endpoints"] == ["statuses/show.json"] and settings["remaining"] == 2


def test_codes_are_taken_in_turn(server):
    faults(server, error_rate=1.0, codes=[10001, 10002, 20016], next_n=3)
    seen = []
    with client(server) as c:
        for _ in range(3):
            with pytest.raises(WeiboAPIError) as exc:
                c.user_timeline()
            seen.append(exc.value.error_code)
    assert seen == [10001, 10002, 20016]


def test_request_log_records_every_api_call(server):
    with client(server) as c:
        status = c.share(f"日志 {LINK}", rip=RIP)
        faults(server, error_rate=1.0, codes=[10023], next_n=1)
        with pytest.raises(WeiboRateLimitError):
            c.show(status["idstr"])
        with pytest.raises(WeiboAPIError):
            c.post("statuses/update.json")
    log = httpx.get(f"{server.url}/_sandbox/requests").json()
    assert [(e["method"], e["path"], e["http_status"], e["error_code"], e["fault"]) for e in log] == [
        ("POST", "/2/statuses/share.json", 200, None, None),
        ("GET", "/2/statuses/show.json", 403, 10023, "error_code"),
        ("POST", "/2/statuses/update.json", 403, 10014, None),
    ]
    assert log[0]["uid"] == CITY.uid
    shares = httpx.get(f"{server.url}/_sandbox/requests", params={"path": "statuses/share.json"}).json()
    assert len(shares) == 1


def test_concurrent_posts_get_unique_ids():
    config = EmulatorConfig(accounts=[CITY], safe_domains=[SAFE_DOMAIN], posts_per_hour=1000)
    with ServerThread(create_app(config)) as running:

        def post(n: int) -> str:
            with client(running) as c:
                return c.share(f"并发第{n}条 {LINK}", rip=RIP)["idstr"]

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(post, range(40)))
        assert len(set(ids)) == 40
        assert len(posts(running)) == 40
