"""Which failures mean an account must be reconnected (and which do not)."""

from connectors.base import OutcomeUnknownError, PermanentError, RetryableError
from pipeline.governance.token_health import auth_failure


def test_expired_or_revoked_weibo_tokens_need_reconnect():
    assert auth_failure("weibo", PermanentError("expired_token", code=21327)) == "expired_token"
    assert auth_failure("weibo", PermanentError("invalid_access_token", code=21332))


def test_a_reset_wechat_app_secret_needs_reconnect_but_a_stale_access_token_does_not():
    assert auth_failure("wechat", PermanentError("errcode 40125 invalid appsecret", code=40125))
    assert auth_failure("wechat", RetryableError("errcode 40001", code=40001)) is None  # refreshed by the client


def test_a_webhook_receiver_refusing_our_signature_needs_reconnect():
    assert auth_failure("appfeed", PermanentError("webhook: HTTP 401", code=401))
    assert auth_failure("appfeed", PermanentError("webhook: HTTP 404", code=404)) is None


def test_content_refusals_and_unknown_outcomes_are_not_credential_problems():
    assert auth_failure("weibo", PermanentError("too long", code=20012)) is None
    assert auth_failure("weibo", OutcomeUnknownError("no answer", code=21327)) is None
    assert auth_failure("portal", PermanentError("disk", code=401)) is None
    assert auth_failure("weibo", ValueError("a bug")) is None
