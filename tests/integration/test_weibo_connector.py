"""WeiboConnector end to end: our real httpx client against the Weibo emulator on loopback."""

import httpx
import pytest

from connectors.base import Connector, OutcomeUnknownError, PermanentError, RetryableError
from connectors.sandbox.server import ServerThread, free_port
from connectors.weibo.client import WeiboClient
from connectors.weibo.connector import WeiboConnector
from connectors.weibo.emulator import EmulatorConfig, WeiboAccount, create_app
from connectors.weibo.errors import WeiboAPIError
from connectors.weibo.render import CORRECTION_MARK, EMERGENCY_MARK, weibo_length
from pipeline.store.media_files import MediaFiles
from schemas.delivery import Channel, DeliveryState, ErrorClass, Receipt, Target
from tests.integration.weibo_items import (
    POLICY_TITLE,
    SAFE_DOMAIN,
    emergency_notice,
    jpeg_bytes,
    make_item,
    news_with_cover,
    policy_interpretation,
)

CITY = WeiboAccount("tok-city", "2803301701", "滨江发布")
OTHER = WeiboAccount("tok-other", "1900000002", "滨江应急管理")
RIP = "211.156.0.1"


@pytest.fixture(scope="module")
def server():
    config = EmulatorConfig(accounts=[CITY, OTHER], safe_domains=[SAFE_DOMAIN], forbidden_words=["法轮"])
    with ServerThread(create_app(config)) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(server):
    httpx.post(f"{server.url}/_sandbox/reset").raise_for_status()


@pytest.fixture
def media(tmp_path) -> MediaFiles:
    return MediaFiles(tmp_path / "media")


@pytest.fixture
def connector(media) -> WeiboConnector:
    return WeiboConnector(media)


def target_for(server, account: WeiboAccount = CITY, **config) -> Target:
    return Target(
        channel=Channel.weibo,
        code=f"weibo-{account.uid}",
        name=account.screen_name,
        config={
            "access_token": account.access_token,
            "api_base_url": f"{server.url}/2/",
            "uid": account.uid,
            "rip": RIP,
            "timeout": 3,
            **config,
        },
    )


def faults(server, **settings):
    httpx.post(f"{server.url}/_sandbox/faults", json=settings).raise_for_status()


def share_calls(server) -> int:
    return len(httpx.get(f"{server.url}/_sandbox/requests", params={"path": "statuses/share.json"}).json())


def live_posts(server) -> list[dict]:
    return [p for p in httpx.get(f"{server.url}/_sandbox/posts").json() if not p["deleted"]]


def test_it_is_a_connector_for_the_weibo_channel(connector):
    assert isinstance(connector, Connector)
    assert connector.channel == "weibo"


def test_publish_a_long_policy_interpretation(server, connector):
    item = policy_interpretation()
    receipt = connector.publish(item, target_for(server))

    assert receipt.state == DeliveryState.succeeded
    assert isinstance(receipt.external_id, str) and int(receipt.external_id) > 2**53
    assert receipt.url == f"https://weibo.com/{CITY.uid}/{receipt.external_id}"
    [post] = live_posts(server)
    assert post["idstr"] == receipt.external_id
    assert post["text"].startswith(f"【{POLICY_TITLE}】") and post["text"].endswith(" " + item.canonical_url)
    assert weibo_length(post["text"]) <= 140


def test_publish_an_emergency_notice(server, connector):
    receipt = connector.publish(emergency_notice(), target_for(server))
    [post] = live_posts(server)
    assert post["idstr"] == receipt.external_id
    assert post["text"].startswith(EMERGENCY_MARK + "【关于防范今明两天强降雨引发山洪地质灾害的紧急通知】")


def test_publish_attaches_the_cover_image(server, connector, media):
    data = jpeg_bytes()
    media.put(data)
    item = news_with_cover(data)
    connector.publish(item, target_for(server))
    [post] = live_posts(server)
    assert post["pic_sha256"] == item.cover


def test_missing_cover_bytes_is_permanent(server, connector):
    with pytest.raises(PermanentError, match="missing from the media store"):
        connector.publish(news_with_cover(jpeg_bytes()), target_for(server))


def test_stricter_limit_in_target_config_is_honoured(server, connector):
    item = policy_interpretation()
    connector.publish(item, target_for(server, max_chars=80))
    [post] = live_posts(server)
    assert weibo_length(post["text"]) <= 80 and item.canonical_url in post["text"]


def test_text_longer_than_weibo_allows_is_a_permanent_render_bug(server, connector):
    with pytest.raises(PermanentError, match="render bug") as exc:
        connector.publish(policy_interpretation(), target_for(server, max_chars=200))
    assert exc.value.code == 20012
    assert live_posts(server) == []


def test_link_outside_the_safe_domain_is_refused(server, connector):
    item = make_item(portal="https://www.example.com")
    with pytest.raises(PermanentError, match="安全域名") as exc:
        connector.publish(item, target_for(server))
    assert exc.value.code == 10017
    assert connector.classify(exc.value) == ErrorClass.permanent


def test_publishing_twice_returns_the_existing_post(server, connector):
    item = policy_interpretation()
    target = target_for(server)
    first = connector.publish(item, target)
    again = connector.publish(item, target)

    assert again.external_id == first.external_id
    assert again.detail["duplicate"] == 20019
    assert len(live_posts(server)) == 1


def test_near_duplicate_answer_also_finds_the_existing_post(server, connector):
    item = emergency_notice()
    target = target_for(server)
    text = connector.render(item, target)["status"].replace("，", ",", 1)
    with WeiboClient(CITY.access_token, base_url=f"{server.url}/2/") as client:
        earlier = client.share(text, rip=RIP)

    receipt = connector.publish(item, target)
    assert receipt.external_id == earlier["idstr"]
    assert receipt.detail["duplicate"] == 20017
    assert len(live_posts(server)) == 1


def test_duplicate_without_a_matching_post_is_permanent(server, connector):
    faults(server, error_rate=1.0, codes=[20111], next_n=1)
    with pytest.raises(PermanentError, match="duplicate") as exc:
        connector.publish(policy_interpretation(), target_for(server))
    assert exc.value.code == 20111


@pytest.mark.parametrize("code,at_least", [(10023, 60), (10024, 60), (10022, 60), (20016, 60)])
def test_rate_limits_are_retryable_later(server, connector, code, at_least):
    faults(server, error_rate=1.0, codes=[code], next_n=1)
    item = policy_interpretation()
    target = target_for(server)
    with pytest.raises(RetryableError) as exc:
        connector.publish(item, target)
    assert exc.value.code == code and exc.value.retry_after >= at_least
    assert connector.classify(exc.value) == ErrorClass.retryable
    assert connector.publish(item, target).external_id


def test_weibo_posting_limit_reached_through_real_posts(server, connector):
    limited = EmulatorConfig(accounts=[CITY], safe_domains=[SAFE_DOMAIN], posts_per_hour=2)
    with ServerThread(create_app(limited)) as other:
        target = target_for(other)
        connector.publish(make_item(1), target)
        connector.publish(make_item(2), target)
        with pytest.raises(RetryableError) as exc:
            connector.publish(make_item(3), target)
    assert exc.value.code == 10024 and exc.value.retry_after >= 60


def test_our_own_quota_holds_calls_back_before_weibo_sees_them(server, media):
    connector = WeiboConnector(media, quota_wait=0)
    target = target_for(server, posts_per_hour=1)
    connector.publish(make_item(1), target)
    with pytest.raises(RetryableError, match="quota") as exc:
        connector.publish(make_item(2), target)
    assert exc.value.retry_after >= 1
    assert len(live_posts(server)) == 1
    connector.publish(make_item(3), target_for(server, OTHER, posts_per_hour=1))  # quota is per target


@pytest.mark.parametrize(
    "settings",
    [
        {"error_rate": 1.0, "codes": [10001]},
        {"error_rate": 1.0, "codes": [10002]},
        {"error_rate": 1.0, "codes": [10009]},
        {"http_500_rate": 1.0},
        {"html_502_rate": 1.0},
    ],
)
def test_busy_weibo_and_broken_gateways_are_retryable(server, connector, settings):
    faults(server, next_n=1, **settings)
    item = policy_interpretation()
    target = target_for(server)
    with pytest.raises(RetryableError):
        connector.publish(item, target)
    assert live_posts(server) == []
    assert connector.publish(item, target).external_id


def test_unreachable_weibo_is_retryable(connector):
    dead = Target(
        channel=Channel.weibo,
        code="weibo-dead",
        config={"access_token": "x", "api_base_url": f"http://127.0.0.1:{free_port()}/2/", "rip": RIP},
    )
    with pytest.raises(RetryableError, match="unreachable"):
        connector.publish(policy_interpretation(), dead)


@pytest.mark.parametrize("expired_how", ["fault", "account"])
def test_expired_token_asks_the_operator_to_reconnect(server, connector, expired_how):
    if expired_how == "fault":
        faults(server, expire_tokens=True)
        target = target_for(server)
    else:
        target = target_for(server, access_token="tok-revoked-long-ago")
    with pytest.raises(PermanentError, match="reconnect the account") as exc:
        connector.publish(policy_interpretation(), target)
    assert exc.value.code == (21327 if expired_how == "fault" else 21332)
    assert connector.classify(exc.value) == ErrorClass.permanent


def test_missing_token_is_permanent(server, connector):
    target = target_for(server)
    target = target.model_copy(update={"config": {**target.config, "access_token": ""}})
    with pytest.raises(PermanentError, match="connect the account"):
        connector.publish(policy_interpretation(), target)


def test_refused_content_needs_human_review(server, connector):
    item = make_item(summary="某网站散布法轮相关信息，请市民勿信勿传。")
    with pytest.raises(PermanentError, match="human review") as exc:
        connector.publish(item, target_for(server))
    assert exc.value.code == 21602


def test_missing_rip_is_permanent(server, connector):
    target = target_for(server)
    target = target.model_copy(update={"config": {k: v for k, v in target.config.items() if k != "rip"}})
    with pytest.raises(PermanentError) as exc:
        connector.publish(policy_interpretation(), target)
    assert exc.value.code == 10016


def test_timeout_after_effect_is_unknown_and_verify_finds_the_post(server, connector):
    item = policy_interpretation()
    target = target_for(server, timeout=0.5)
    faults(server, timeout_after_effect_rate=1.0, stall_ms=5000, next_n=1)

    with pytest.raises(OutcomeUnknownError) as exc:
        connector.publish(item, target)
    assert connector.classify(exc.value) == ErrorClass.unknown

    found = connector.verify(item, target, None)
    assert share_calls(server) == 1  # verify only reads
    assert found is not None and found.state == DeliveryState.succeeded
    [post] = live_posts(server)
    assert found.external_id == post["idstr"]
    assert found.url == f"https://weibo.com/{CITY.uid}/{post['idstr']}"

    # Even a blind retry does not post twice: Weibo answers duplicate and we return the same post.
    assert connector.publish(item, target).external_id == found.external_id
    assert len(live_posts(server)) == 1


def test_success_pending_20032_is_remote_pending_then_verified(server, connector):
    item = emergency_notice()
    target = target_for(server)
    faults(server, error_rate=1.0, codes=[20032], next_n=1)

    receipt = connector.publish(item, target)
    assert receipt.state == DeliveryState.remote_pending and receipt.external_id is None

    settled = connector.verify(item, target, receipt)
    assert settled is not None and settled.external_id == live_posts(server)[0]["idstr"]


def test_verify_by_previous_id_and_nothing_found(server, connector):
    item = policy_interpretation()
    target = target_for(server)
    assert connector.verify(item, target, None) is None

    receipt = connector.publish(item, target)
    assert connector.verify(item, target, receipt).external_id == receipt.external_id
    assert connector.verify(emergency_notice(), target, None) is None
    assert connector.verify(item, target_for(server, OTHER), None) is None


def test_verify_read_timeouts_are_retryable_not_unknown(server, connector):
    faults(server, latency_ms=1500, next_n=1)
    with pytest.raises(RetryableError):
        connector.verify(policy_interpretation(), target_for(server, timeout=0.3), None)


def test_take_down_destroys_and_is_idempotent(server, connector):
    item = policy_interpretation()
    target = target_for(server)
    published = connector.publish(item, target)

    removed = connector.take_down(item, target, published)
    assert removed.state == DeliveryState.succeeded and removed.external_id == published.external_id
    assert removed.detail["deleted"] is True
    assert live_posts(server) == []

    again = connector.take_down(item, target, published)
    assert again.state == DeliveryState.succeeded and again.detail["already_absent"] is True
    assert connector.verify(item, target, published) is None


def test_take_down_without_an_id_finds_the_post_by_its_link(server, connector):
    item = emergency_notice()
    target = target_for(server)
    faults(server, error_rate=1.0, codes=[20032], next_n=1)
    pending = connector.publish(item, target)

    removed = connector.take_down(item, target, pending)
    assert removed.detail["deleted"] is True
    assert live_posts(server) == []
    assert connector.take_down(item, target, pending).detail["already_absent"] is True


def test_correct_replaces_the_post(server, connector):
    target = target_for(server)
    original = policy_interpretation()
    published = connector.publish(original, target)

    corrected = policy_interpretation(revision=2, correction_note="原文“二十三条”应为“二十五条”，特此更正。")
    receipt = connector.correct(corrected, target, published)

    assert receipt.state == DeliveryState.succeeded
    assert receipt.external_id != published.external_id
    assert receipt.detail["replaces"] == published.external_id
    [post] = live_posts(server)
    assert post["idstr"] == receipt.external_id
    assert post["text"].startswith(CORRECTION_MARK + f"【{POLICY_TITLE}】")
    assert connector.verify(corrected, target, published).external_id == receipt.external_id
    assert connector.verify(original, target, published) is None


def test_correct_retried_after_the_old_post_is_gone(server, connector):
    target = target_for(server)
    published = connector.publish(policy_interpretation(), target)
    corrected = policy_interpretation(revision=2, correction_note="更正发布单位名称。")

    faults(server, error_rate=1.0, codes=[10002], endpoints=["statuses/share.json"], next_n=1)
    with pytest.raises(RetryableError):
        connector.correct(corrected, target, published)
    assert live_posts(server) == []  # destroyed first, the new post failed

    receipt = connector.correct(corrected, target, published)
    assert [p["idstr"] for p in live_posts(server)] == [receipt.external_id]


def test_correct_with_same_text_reposts_cleanly(server, connector):
    target = target_for(server)
    item = policy_interpretation()
    published = connector.publish(item, target)
    receipt = connector.correct(policy_interpretation(revision=2), target, published)
    assert receipt.external_id != published.external_id
    assert len(live_posts(server)) == 1


def test_legacy_update_api_is_classified_permanent(server, connector):
    with WeiboClient(CITY.access_token, base_url=f"{server.url}/2/") as client:
        with pytest.raises(WeiboAPIError) as exc:
            client.post("statuses/update.json", data={"status": "旧接口", "rip": RIP})
    assert exc.value.error_code == 10014
    assert connector.classify(exc.value) == ErrorClass.permanent


def test_classify_ranks_raw_client_errors(server, connector):
    with WeiboClient(CITY.access_token, base_url=f"{server.url}/2/", timeout=0.3) as client:
        faults(server, timeout_after_effect_rate=1.0, stall_ms=3000, next_n=1)
        with pytest.raises(Exception) as timeout:
            client.share(f"超时 https://www.{SAFE_DOMAIN}/a.html", rip=RIP)
        faults(server, error_rate=1.0, codes=[10023], next_n=1)
        with pytest.raises(Exception) as limited:
            client.user_timeline()
    assert connector.classify(timeout.value) == ErrorClass.unknown
    assert connector.classify(limited.value) == ErrorClass.retryable
    assert connector.classify(ValueError("not ours")) == ErrorClass.unknown
    assert connector.classify(RetryableError("x")) == ErrorClass.retryable


def test_receipt_round_trips_as_json(server, connector):
    receipt = connector.publish(emergency_notice(), target_for(server))
    assert Receipt.model_validate_json(receipt.model_dump_json()) == receipt
