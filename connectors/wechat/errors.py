"""WeChat failures → the kitchen's error classes (PLATFORMS.md §1.5).

    retryable  -1 system busy, 45009 daily quota (after 00:00 Beijing), 45011 minute quota,
               53501 publishing too often, 40001/40014/42001 still failing after the client's one
               token refresh, HTTP 5xx, connections that never reached WeChat, local queue timeouts
    unknown    a timeout or dropped connection after a call with a public effect was sent
               (freepublish/submit): verify before any retry
    permanent  everything else, notably 48001 unverified account, 53503–53505 draft refused,
               45003/45004/45110/45166 content refused, 40164 IP not whitelisted, 50002 account
               limited, 40013/40125 wrong appid/secret, HTTP 4xx, publish_status 2/3/4
"""

from datetime import datetime, timedelta, timezone

import requests
from urllib3.exceptions import NewConnectionError
from wechatpy.exceptions import WeChatClientException

from connectors.base import ConnectorError, OutcomeUnknownError, PermanentError, RetryableError

BEIJING = timezone(timedelta(hours=8))
RETRY_AFTER = {-1: 5.0, 45011: 60.0, 53501: 60.0, 40001: 5.0, 40014: 5.0, 42001: 5.0}
RETRYABLE_CODES = frozenset(RETRY_AFTER) | {45009}
PUBLISH_STATUS = {
    2: "原创失败 (originality check failed)",
    3: "常规失败 (general failure)",
    4: "平台审核不通过 (rejected by review)",
}
TAKEN_DOWN_CODE = 53600  # invalid article_id: deleting it again means it is already gone
INVALID_MEDIA_ID = 40007  # invalid media_id: e.g. a cover material the account has deleted


def seconds_to_beijing_midnight(now: datetime | None = None) -> float:
    now = (now or datetime.now(BEIJING)).astimezone(BEIJING)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def from_errcode(errcode: int, errmsg: str | None, *, action: str) -> ConnectorError:
    message = f"WeChat {action}: errcode {errcode} {errmsg or ''}".strip()
    if errcode == 45009:
        return RetryableError(message, code=errcode, retry_after=seconds_to_beijing_midnight())
    if errcode in RETRYABLE_CODES:
        return RetryableError(message, code=errcode, retry_after=RETRY_AFTER[errcode])
    return PermanentError(message, code=errcode)


def publish_failed(publish_id: str, status: int) -> PermanentError:
    reason = PUBLISH_STATUS.get(status, "failed")
    message = f"WeChat publish job {publish_id} ended with publish_status {status}: {reason}"
    return PermanentError(message, code=f"publish_status_{status}")


def _never_sent(error: requests.ConnectionError) -> bool:
    """True when the connection itself failed, so the request cannot have reached WeChat."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def to_connector_error(error: Exception, *, action: str, effectful: bool) -> Exception:
    """The ConnectorError for `error`, raised by `action`; other exceptions (our bugs) come back as they are.

    `effectful` says whether the call could have had a public effect (a submitted publish job):
    only then does a lost answer become OutcomeUnknownError; anything else is safe to repeat.
    """
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, WeChatClientException):
        if error.errcode is not None:
            return from_errcode(int(error.errcode), error.errmsg, action=action)
        status = getattr(error.response, "status_code", None)
        message = f"WeChat {action}: HTTP {status}"
        if status is None or status >= 500 or status == 429:
            return RetryableError(message, code=f"http_{status}", retry_after=5.0)
        return PermanentError(message, code=f"http_{status}")
    if isinstance(error, requests.ConnectionError) and _never_sent(error):
        return RetryableError(f"WeChat {action}: cannot connect ({error})", code="connect")
    if isinstance(error, requests.RequestException):
        kind = "timeout" if isinstance(error, requests.Timeout) else "connection lost"
        message = f"WeChat {action}: {kind} after the request was sent ({error})"
        if effectful:
            return OutcomeUnknownError(message, code=kind)
        return RetryableError(message, code=kind, retry_after=5.0)
    return error
