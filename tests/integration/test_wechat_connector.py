"""WeChatConnector and CKWeChatClient against the emulator over loopback HTTP: real wechatpy,
real media files, real HTTP. Publishing, verification after lost answers, takedown, correction,
token expiry with one bounded retry, error classes under injected faults, and the rate limiter."""

import threading
import time

import pytest
import requests
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from connectors.base import Connector, OutcomeUnknownError, PermanentError, RetryableError
from connectors.ratelimit import TokenBucket
from connectors.sandbox.server import ServerThread, free_port
from connectors.wechat import CKWeChatClient, WeChatConnector
from connectors.wechat.emulator import EmulatorConfig, create_app
from pipeline.store.media_files import MediaFiles
from schemas.delivery import Channel, DeliveryState, ErrorClass, Receipt, Target
from tests.integration.wechat_items import LONG_TITLE, jpeg, make_news, make_policy

APPID, SECRET = "wx5f2e8c1a9b3d7e60", "3f9a7c2e5b8d1f4a6c0e9b2d5f8a1c3e"
MMBIZ = "http://mmbiz.qpic.cn/"


@pytest.fixture(scope="module")
def server():
    with ServerThread(create_app(EmulatorConfig(accounts={APPID: SECRET}, publish_delay_ms=100))) as srv:
        yield srv


@pytest.fixture(autouse=True)
def clean(server):
    requests.post(f"{server.url}/_sandbox/reset", timeout=5).raise_for_status()


@pytest.fixture
def media(tmp_path):
    return MediaFiles(tmp_path / "media")


@pytest.fixture
def connector(media):
    return WeChatConnector(media)


def target(server, **config) -> Target:
    base = {
        "appid": APPID,
        "secret": SECRET,
        "api_base_url": f"{server.url}/cgi-bin/",
        "timeout": 2,
        "poll_seconds": 2,
        "poll_interval": 0.05,
        "rate_per_sec": 200,
        "burst": 200,
    }
    return Target(channel=Channel.wechat, code="cq-wechat", name="重庆发布", unit="cq", config=base | config)


def faults(server, **settings) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json=settings, timeout=5).raise_for_status()


def posts(server) -> list[dict]:
    return requests.get(f"{server.url}/_sandbox/posts", timeout=5).json()


def calls(server, path: str = "") -> list[dict]:
    return requests.get(f"{server.url}/_sandbox/requests", params={"path": path}, timeout=5).json()


def test_it_is_a_connector(connector):
    assert isinstance(connector, Connector) and connector.channel == "wechat"


# ---------------------------------------------------------------------- publishing


def test_publish_a_policy_document(server, connector):
    item = make_policy()
    receipt = connector.publish(item, target(server))

    assert receipt.state == DeliveryState.succeeded
    assert receipt.url == f"https://mp.weixin.qq.com/s/{receipt.external_id}"
    assert receipt.detail["article_id"] == receipt.external_id and receipt.detail["publish_id"]
    assert receipt.detail["item_id"] == item.id and receipt.detail["revision"] == 1
    [post] = posts(server)
    assert post["article_id"] == receipt.external_id and not post["deleted"]
    assert post["title"] == item.title and post["author"] == "重庆市人民政府办公厅"
    assert post["content_source_url"] == item.canonical_url
    assert "渝府办发〔2019〕64号" in post["content"] and "<script" not in post["content"]
    assert len(calls(server, "material/add_material")) == 1  # a plain cover: WeChat insists on one
    assert calls(server, "media/uploadimg") == []


def test_publish_news_with_two_inline_images(server, connector, media):
    item = make_news(media)
    receipt = connector.publish(item, target(server))

    assert receipt.state == DeliveryState.succeeded
    assert len(calls(server, "media/uploadimg")) == 2  # the photo appears twice but is uploaded once
    assert len(calls(server, "material/add_material")) == 1
    [post] = posts(server)
    assert "/media/" not in post["content"]
    assert post["content"].count(f'src="{MMBIZ}mmbiz_jpg/') == 2
    assert post["content"].count(f'src="{MMBIZ}mmbiz_png/') == 1
    assert post["author"] == "重庆日报记者 李明"
    wechat = CKWeChatClient(APPID, SECRET, api_base_url=server.url)
    assert wechat.freepublish.getarticle(receipt.external_id)["news_item"][0]["thumb_url"].startswith(MMBIZ)


def test_a_large_cover_is_shrunk_to_a_thumb(server, connector, media):
    cover = jpeg(900, 383, (0, 0, 0), quality=95, noise=True)
    assert len(cover) > 64 * 1024
    receipt = connector.publish(make_news(media, cover=cover), target(server, cover_type="thumb"))
    assert receipt.state == DeliveryState.succeeded
    assert [c["errcode"] for c in calls(server, "material/add_material")] == [0]


def test_a_long_title_is_cut_to_wechats_limit(server, connector):
    connector.publish(make_policy(title=LONG_TITLE), target(server))
    [post] = posts(server)
    assert len(post["title"]) == 32 and post["title"].endswith("…")


def test_wechat_refuses_an_overlong_title_and_that_is_permanent(server, connector):
    wechat = CKWeChatClient(APPID, SECRET, api_base_url=server.url)
    thumb = wechat.material.add("thumb", ("t.jpg", make_cover(), "image/jpeg"))["media_id"]
    with pytest.raises(WeChatClientException) as caught:
        wechat.draft.add([{"title": "标" * 33, "content": "<p>正文</p>", "thumb_media_id": thumb}])
    assert caught.value.errcode == 45003
    assert connector.classify(caught.value) == ErrorClass.permanent


def make_cover() -> bytes:
    return jpeg(300, 128, (180, 30, 30))


def test_a_slow_job_is_remote_pending_until_verify_sees_it_finish(server, connector):
    faults(server, publish_delay_ms=1200)
    item = make_policy()
    wechat = target(server, poll_seconds=0.2)
    pending = connector.publish(item, wechat)
    assert pending.state == DeliveryState.remote_pending
    assert pending.external_id == pending.detail["publish_id"]
    assert connector.verify(item, wechat, pending).state == DeliveryState.remote_pending

    time.sleep(1.2)
    done = connector.verify(item, wechat, pending)
    assert done.state == DeliveryState.succeeded
    assert done.external_id == posts(server)[0]["article_id"] and done.url.startswith("https://mp.weixin.qq.com/s/")
    assert done.detail["publish_id"] == pending.external_id


@pytest.mark.parametrize("outcome", [2, 3, 4])
def test_a_failed_publish_job_is_permanent(server, connector, outcome):
    faults(server, publish_outcome=outcome)
    with pytest.raises(PermanentError) as caught:
        connector.publish(make_policy(), target(server))
    assert caught.value.code == f"publish_status_{outcome}"
    assert connector.classify(caught.value) == ErrorClass.permanent
    assert posts(server) == []


def test_verify_knows_nothing_of_an_unknown_job(server, connector):
    ghost = Receipt(state=DeliveryState.remote_pending, external_id="999", detail={"publish_id": "999"})
    assert connector.verify(make_policy(), target(server), ghost) is None


# ---------------------------------------------------------------------- tokens


def test_an_expired_token_is_refreshed_once(server, connector):
    connector.publish(make_policy(6401), target(server))
    faults(server, expire_tokens=True)
    receipt = connector.publish(make_policy(6402), target(server))

    assert receipt.state == DeliveryState.succeeded and len(posts(server)) == 2
    assert [c["errcode"] for c in calls(server) if c["errcode"]] == [42001]
    assert len(calls(server, "stable_token")) == 2  # one per token lifetime, shared by both publishes


def test_a_persistent_token_error_is_retried_once_not_forever(server, connector):
    faults(server, error_rate=1, codes=[40001], only_paths=["draft/add"])
    with pytest.raises(RetryableError) as caught:
        connector.publish(make_policy(), target(server))
    assert caught.value.code == 40001
    assert len(calls(server, "draft/add")) == 2  # the call and its one retry
    assert len(calls(server, "stable_token")) == 2  # the first token and one forced refresh
    assert len(calls(server)) <= 6 and posts(server) == []


def test_workers_with_separate_token_caches_share_one_stable_token(server, media):
    first, second = WeChatConnector(media), WeChatConnector(media)
    first.publish(make_policy(6401), target(server))
    second.publish(make_policy(6402), target(server))
    tokens = [c for c in calls(server) if c["path"].endswith("stable_token")]
    assert len(tokens) == 2 and not [c for c in calls(server) if c["errcode"]]  # nobody's token was invalidated


class DictStorage(SessionStorage):
    """A stand-in for a shared store (Redis, the database): any SessionStorage will do."""

    def __init__(self):
        self.data = {}

    def get(self, key, default=None):
        return self.data.get(key, default)

    def set(self, key, value, ttl=None):
        self.data[key] = value

    def delete(self, key):
        self.data.pop(key, None)


def test_a_shared_session_storage_saves_token_calls(server, media):
    storage = DictStorage()
    WeChatConnector(media, session=storage).publish(make_policy(6401), target(server))
    WeChatConnector(media, session=storage).publish(make_policy(6402), target(server))
    assert len(calls(server, "stable_token")) == 1
    assert storage.get(f"{APPID}_access_token") and storage.get(f"{APPID}_access_token_expires_at") > time.time()


def test_uploads_must_be_bytes(server, tmp_path):
    path = tmp_path / "cover.jpg"
    path.write_bytes(make_cover())
    wechat = CKWeChatClient(APPID, SECRET, api_base_url=server.url)
    with open(path, "rb") as cover, pytest.raises(TypeError):
        wechat.material.add("image", cover)
    assert calls(server, "material/add_material") == []


# ---------------------------------------------------------------------- error classes


@pytest.mark.parametrize(
    "code, path, error_class",
    [
        (-1, "draft/add", RetryableError),
        (45009, "material/add_material", RetryableError),
        (45011, "draft/add", RetryableError),
        (53501, "freepublish/submit", RetryableError),
        (48001, "freepublish/submit", PermanentError),
        (53503, "freepublish/submit", PermanentError),
        (53504, "freepublish/submit", PermanentError),
        (53505, "freepublish/submit", PermanentError),
        (45166, "draft/add", PermanentError),
        (40164, "stable_token", PermanentError),
        (50002, "material/add_material", PermanentError),
    ],
)
def test_injected_errcodes_map_to_error_classes(server, connector, code, path, error_class):
    faults(server, error_rate=1, codes=[code], only_paths=[path])
    with pytest.raises(error_class) as caught:
        connector.publish(make_policy(), target(server))
    assert caught.value.code == code
    assert connector.classify(caught.value) == error_class.error_class
    if code in (45009, 45011):
        assert caught.value.retry_after >= (60 if code == 45011 else 1)
    assert posts(server) == []


def test_http_500_is_retryable(server, connector):
    faults(server, http_500_rate=1, only_paths=["draft/add"])
    with pytest.raises(RetryableError) as caught:
        connector.publish(make_policy(), target(server))
    assert caught.value.code == "http_500"


def test_an_unreachable_wechat_is_retryable(connector):
    config = {"appid": APPID, "secret": SECRET, "api_base_url": f"http://127.0.0.1:{free_port()}", "timeout": 1}
    closed = Target(channel=Channel.wechat, code="x", config=config)
    with pytest.raises(RetryableError) as caught:
        connector.publish(make_policy(), closed)
    assert caught.value.code == "connect"
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(closed.config["api_base_url"], timeout=1)
    assert connector.classify(refused.value) == ErrorClass.retryable  # never reached WeChat
    assert connector.classify(requests.ReadTimeout("sent, no answer")) == ErrorClass.unknown


def test_bad_credentials_are_permanent(server, connector):
    with pytest.raises(PermanentError) as caught:
        connector.publish(make_policy(), target(server, secret="wrong"))
    assert caught.value.code == 40125
    for config in ({"appid": APPID}, {"appid": APPID, "secret": SECRET, "cover_type": "video"}):
        with pytest.raises(PermanentError) as caught:
            connector.publish(make_policy(), Target(channel=Channel.wechat, code="x", config=config))
        assert caught.value.code == "config"


def test_missing_media_is_permanent(server, media, tmp_path):
    item = make_news(media)
    with pytest.raises(PermanentError) as caught:
        WeChatConnector(MediaFiles(tmp_path / "empty")).publish(item, target(server))
    assert caught.value.code == "media"
    assert calls(server) == []  # every image is read before the first call


# ---------------------------------------------------------------------- lost answers


def test_a_lost_submit_answer_is_unknown_and_verify_finds_the_post(server, connector, media):
    faults(server, timeout_after_effect_rate=1, only_paths=["freepublish/submit"], next_n=1)
    item = make_news(media)
    wechat = target(server, timeout=1)
    with pytest.raises(OutcomeUnknownError) as caught:
        connector.publish(item, wechat)
    assert connector.classify(caught.value) == ErrorClass.unknown

    found = connector.verify(item, wechat, None)  # what the pipeline does before any retry
    assert found.state == DeliveryState.succeeded
    [post] = posts(server)
    assert found.external_id == post["article_id"] and found.url == post["url"]
    assert connector.verify(item, wechat, found).external_id == post["article_id"]
    assert len(calls(server, "freepublish/submit")) == 1 and len(posts(server)) == 1


def test_a_lost_answer_before_the_submit_is_retryable_and_leaves_no_trace(server, connector):
    faults(server, timeout_after_effect_rate=1, only_paths=["draft/add"], next_n=1)
    item = make_policy()
    wechat = target(server, timeout=1, poll_seconds=5)
    with pytest.raises(RetryableError) as caught:
        connector.publish(item, wechat)
    assert caught.value.code == "timeout"

    started = time.monotonic()
    assert connector.verify(item, wechat, None) is None  # the draft is still in the box: never submitted
    assert time.monotonic() - started < 2
    assert connector.publish(item, wechat).state == DeliveryState.succeeded
    assert len(posts(server)) == 1


def test_a_lost_poll_answer_leaves_the_job_pending(server, connector):
    faults(server, error_rate=1, codes=[-1], only_paths=["freepublish/get"], next_n=100)
    item = make_policy()
    pending = connector.publish(item, target(server, poll_seconds=0.3))
    assert pending.state == DeliveryState.remote_pending  # submitted, so never reported as an error
    faults(server)
    assert connector.verify(item, target(server), pending).state == DeliveryState.succeeded
    assert len(posts(server)) == 1


# ---------------------------------------------------------------------- takedown and correction


def test_take_down(server, connector):
    item = make_policy()
    wechat = target(server)
    receipt = connector.publish(item, wechat)

    removed = connector.take_down(item, wechat, receipt)
    assert removed.state == DeliveryState.succeeded and removed.external_id == receipt.external_id
    assert removed.detail["deleted"] is True and removed.detail["already_gone"] is False
    assert [p["deleted"] for p in posts(server)] == [True]
    assert connector.verify(item, wechat, receipt) is None  # gone

    again = connector.take_down(item, wechat, receipt)
    assert again.detail["already_gone"] is True  # 53600: nothing left to delete


def test_take_down_waits_for_a_running_job(server, connector):
    faults(server, publish_delay_ms=2000)
    item = make_policy()
    pending = connector.publish(item, target(server, poll_seconds=0.1))
    with pytest.raises(RetryableError) as caught:
        connector.take_down(item, target(server), pending)
    assert caught.value.code == "publishing"


def test_take_down_of_a_failed_job_has_nothing_to_do(server, connector):
    faults(server, publish_delay_ms=1000, publish_outcome=3)
    item = make_policy()
    pending = connector.publish(item, target(server, poll_seconds=0))
    assert pending.state == DeliveryState.remote_pending
    time.sleep(1.1)
    receipt = connector.take_down(item, target(server), pending)
    assert receipt.detail["deleted"] is False


def test_correction_replaces_the_article(server, connector):
    wechat = target(server)
    first = connector.publish(make_policy(), wechat)
    note = "原文第二段“三审三校”误为“三审两校”，现予更正。"
    revised = make_policy(revision=2, correction_note=note)

    corrected = connector.correct(revised, wechat, first)
    assert corrected.state == DeliveryState.succeeded
    assert corrected.external_id != first.external_id
    assert corrected.detail["replaced_article_id"] == first.external_id and corrected.detail["revision"] == 2
    old, new = posts(server)
    assert (old["article_id"], old["deleted"]) == (first.external_id, True)
    assert (new["article_id"], new["deleted"]) == (corrected.external_id, False)
    assert "更正说明：</strong>" + note in new["content"]
    assert connector.verify(revised, wechat, corrected).external_id == corrected.external_id
    assert connector.verify(make_policy(), wechat, first) is None


def test_a_retried_correction_does_not_duplicate(server, connector):
    wechat = target(server)
    first = connector.publish(make_policy(), wechat)
    revised = make_policy(revision=2, correction_note="发布日期更正为2019年6月20日。")
    faults(server, error_rate=1, codes=[-1], only_paths=["freepublish/submit"], next_n=1)
    with pytest.raises(RetryableError):
        connector.correct(revised, wechat, first)
    assert [p["deleted"] for p in posts(server)] == [True]  # the old one is gone, the new one not yet there

    corrected = connector.correct(revised, wechat, first)  # the delete finds it gone (53600) and goes on
    assert corrected.detail["replaced_article_id"] == first.external_id
    assert [p["deleted"] for p in posts(server)] == [True, False]


# ---------------------------------------------------------------------- rate limiting


def test_a_burst_of_publishes_queues_for_quota_instead_of_failing(server, media):
    connector = WeChatConnector(media)
    wechat = target(server, rate_per_sec=10, burst=3)
    results, started = [], time.monotonic()

    def publish(item_id: int) -> None:
        results.append(connector.publish(make_policy(item_id), wechat))

    threads = [threading.Thread(target=publish, args=(6400 + n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started

    api_calls = [c for c in calls(server) if not c["path"].endswith("stable_token")]
    assert [r.state for r in results] == [DeliveryState.succeeded] * 3 and len(posts(server)) == 3
    assert elapsed >= (len(api_calls) - 3) / 10 * 0.9  # the bucket paced them


def test_no_quota_within_the_queue_timeout_is_retryable(server, media):
    connector = WeChatConnector(media)
    with pytest.raises(RetryableError) as caught:
        connector.publish(make_policy(), target(server, rate_per_sec=0.1, burst=1, queue_timeout=0.05))
    assert caught.value.code == "rate_limited" and caught.value.retry_after >= 1
    assert posts(server) == []


def test_token_bucket_paces_callers():
    bucket = TokenBucket(rate_per_sec=20, burst=2)
    assert bucket.try_acquire() and bucket.try_acquire()
    assert not bucket.try_acquire() and not bucket.acquire(timeout=0)
    started = time.monotonic()
    assert bucket.acquire(timeout=1)
    assert 0.03 <= time.monotonic() - started < 0.5
    with pytest.raises(ValueError):
        TokenBucket(0, 1)


def test_token_bucket_is_thread_safe():
    bucket = TokenBucket(rate_per_sec=100, burst=5)
    granted = []
    started = time.monotonic()

    def take() -> None:
        for _ in range(5):
            granted.append(bucket.acquire(timeout=5))

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted == [True] * 30
    assert time.monotonic() - started >= (30 - 5) / 100 * 0.9
