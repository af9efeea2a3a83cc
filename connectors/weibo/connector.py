"""Weibo connector: each approved item becomes one post per Weibo account, linking to its portal page.

- publish: statuses/share.json. 20032 ("success, server slow") gives a `remote_pending` receipt for
  verify to settle later. A duplicate answer (20017/20019/20111) means an earlier attempt got
  through: the existing post is looked up and returned, never posted again.
- verify: `show` the previous id, else search the account's own timeline. A match is a live post
  with the item's canonical URL and this revision's text (ignoring whitespace and punctuation).
- take_down: statuses/destroy.json; 20101 (already gone) counts as done, so destroy is idempotent.
- correct: Weibo cannot edit a post, so the old post is destroyed first and the corrected text is
  posted after it (posting first could trip the duplicate check against the old text). If the
  new post fails, a retry finds the old one gone (20101) and posts again.

Target.config:
    access_token    required; the account's OAuth2 token (web apps get no refresh token)
    api_base_url    default "https://api.weibo.com/2/" (the emulator's URL + "/2/" in tests)
    timeout         seconds, default 10
    uid             the account's uid, for permalinks (else taken from the answer)
    rip             the operator's real IP, sent as `rip` (share.json requires it)
    max_chars       default 140; url_weight default 20 (see render.py)
    posts_per_hour  our own per-target posting quota, default 30 (Weibo's posting limit)
"""

import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from threading import Lock
from typing import Any

from connectors.base import (
    ConnectorError,
    MediaSource,
    OutcomeUnknownError,
    PermanentError,
    RetryableError,
    classify_default,
)
from connectors.ratelimit import TokenBucket
from connectors.weibo.client import DEFAULT_BASE_URL, WeiboClient
from connectors.weibo.errors import (
    WeiboAPIError,
    WeiboAuthError,
    WeiboBadResponseError,
    WeiboConnectionError,
    WeiboContentError,
    WeiboDuplicateError,
    WeiboError,
    WeiboNoResponseError,
    WeiboPending,
    WeiboRateLimitError,
)
from connectors.weibo.render import DEFAULT_MAX_CHARS, DEFAULT_URL_WEIGHT, WeiboPost, render_post
from schemas.delivery import Channel, DeliveryState, ErrorClass, Receipt, Target
from schemas.item import ItemSnapshot

PERMALINK_BASE = "https://weibo.com"
GONE = 20101  # Target weibo does not exist
RECONNECT_CODES = frozenset({21301, *range(21314, 21320), 21327, 21332})
BUSY_CODES = frozenset({10001, 10002, 10003, 10009})
# Weibo sends no Retry-After; its limits are hourly windows (10022–10024) or a short burst (20016).
RETRY_AFTER = {10022: 300.0, 10023: 300.0, 10024: 300.0, 20016: 60.0}
TIMELINE_PAGE = 100
TIMELINE_PAGES = 3

ClientFactory = Callable[[Target], WeiboClient]


class WeiboConnector:
    channel = Channel.weibo

    def __init__(self, media: MediaSource, client_factory: ClientFactory | None = None, *, quota_wait: float = 2.0):
        """`client_factory` builds a client per operation (the connector closes it); without one,
        each account keeps one client (its connection pool and TLS context are reused). `quota_wait`
        is how long a call may wait for our own per-target posting quota before it is retried later."""
        self.media = media
        self._client_factory = client_factory
        self._clients: dict[tuple, WeiboClient] = {}
        self._clients_lock = Lock()
        self._quota_wait = quota_wait
        self._buckets: dict[tuple[str, float], TokenBucket] = {}
        self._buckets_lock = Lock()

    def render(self, item: ItemSnapshot, target: Target) -> WeiboPost:
        cfg = target.config
        return render_post(
            item,
            max_chars=int(cfg.get("max_chars", DEFAULT_MAX_CHARS)),
            url_weight=int(cfg.get("url_weight", DEFAULT_URL_WEIGHT)),
        )

    def publish(self, item: ItemSnapshot, target: Target) -> Receipt:
        post = self.render(item, target)
        pic = self._pic(post)
        with self._client(target) as client:
            return self._share(client, item, target, post, pic)

    def correct(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        post = self.render(item, target)
        pic = self._pic(post)
        with self._client(target) as client:
            old_id = previous.external_id
            if old_id is None:
                found = self._find(client, item, None)
                if found is not None and _same_text(found["text"], post["status"]):
                    return self._receipt(found, target)
                old_id = _idstr(found) if found is not None else None
            if old_id is not None:
                self._destroy(client, target, old_id)
            return self._share(client, item, target, post, pic, replaces=old_id)

    def take_down(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        with self._client(target) as client:
            idstr = previous.external_id
            if idstr is None:
                found = self._find(client, item, None)
                if found is None:
                    return Receipt(detail={"already_absent": True})
                idstr = _idstr(found)
            return self._destroy(client, target, idstr)

    def verify(self, item: ItemSnapshot, target: Target, previous: Receipt | None) -> Receipt | None:
        post = self.render(item, target)
        with self._client(target) as client:
            if previous is not None and previous.external_id:
                with _translated(effectful=False, account=target.code):
                    try:
                        status = client.show(previous.external_id)
                    except WeiboAPIError as exc:
                        if exc.error_code != GONE:
                            raise
                    else:
                        if _matches(status, item, post):
                            return self._receipt(status, target)
            found = self._find(client, item, post)
            return self._receipt(found, target) if found is not None else None

    def classify(self, error: Exception) -> ErrorClass:
        if isinstance(error, WeiboError):
            return to_connector_error(error, effectful=True).error_class
        return classify_default(error)

    def _share(
        self, client: WeiboClient, item: ItemSnapshot, target: Target, post: WeiboPost, pic: bytes | None, **detail: Any
    ) -> Receipt:
        self._spend_quota(target)
        with _translated(effectful=True, account=target.code):
            try:
                status = client.share(post["status"], pic=pic, rip=target.config.get("rip"))
            except WeiboPending as exc:
                return Receipt(state=DeliveryState.remote_pending, detail={"error_code": exc.error_code, **detail})
            except WeiboDuplicateError as exc:
                found = self._find(client, item, None)
                if found is None:
                    raise PermanentError(
                        f"Weibo calls this post a duplicate ({exc.error_code} {exc.error}) but no live post on "
                        f"{target.code} links {item.canonical_url}: check the account by hand",
                        code=exc.error_code,
                    ) from exc
                return self._receipt(found, target, duplicate=exc.error_code, **detail)
        return self._receipt(status, target, **detail)

    def _destroy(self, client: WeiboClient, target: Target, idstr: str) -> Receipt:
        """Destroy is idempotent (20101 = already gone), so even a timeout here is simply retryable."""
        self._spend_quota(target)
        with _translated(effectful=False, account=target.code):
            try:
                status = client.destroy(idstr)
            except WeiboAPIError as exc:
                if exc.error_code != GONE:
                    raise
                url = self._permalink(target, None, idstr)
                return Receipt(external_id=idstr, url=url, detail={"already_absent": True})
        return self._receipt(status, target, deleted=True)

    def _find(self, client: WeiboClient, item: ItemSnapshot, post: WeiboPost | None) -> dict[str, Any] | None:
        """The newest live post of this account that links the item (and has `post`'s text, if given)."""
        with _translated(effectful=False):
            for page in range(1, TIMELINE_PAGES + 1):
                statuses = client.user_timeline(count=TIMELINE_PAGE, page=page).get("statuses", [])
                for status in statuses:
                    if _matches(status, item, post):
                        return status
                if len(statuses) < TIMELINE_PAGE:
                    break
        return None

    def _receipt(self, status: dict[str, Any], target: Target, **detail: Any) -> Receipt:
        idstr = _idstr(status)
        uid = str(target.config.get("uid") or (status.get("user") or {}).get("idstr") or "")
        return Receipt(
            external_id=idstr,
            url=self._permalink(target, uid, idstr),
            detail={"uid": uid, "created_at": status.get("created_at"), **detail},
        )

    @staticmethod
    def _permalink(target: Target, uid: str | None, idstr: str) -> str | None:
        uid = uid or target.config.get("uid")
        return f"{PERMALINK_BASE}/{uid}/{idstr}" if uid else None

    def _pic(self, post: WeiboPost) -> bytes | None:
        sha256 = post["pic_sha256"]
        if sha256 is None:
            return None
        try:
            return self.media.read(sha256)
        except FileNotFoundError as exc:
            raise PermanentError(f"cover image {sha256} is missing from the media store") from exc

    @contextmanager
    def _client(self, target: Target) -> Iterator[WeiboClient]:
        if self._client_factory is None:
            yield self._shared_client(target)
            return
        client = self._client_factory(target)
        try:
            yield client
        finally:
            client.close()

    def _shared_client(self, target: Target) -> WeiboClient:
        """One client per account and credentials (httpx clients are thread-safe)."""
        cfg = target.config
        key = (target.code, cfg.get("access_token"), cfg.get("api_base_url"), cfg.get("timeout"))
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = client_for(target)
                for old in [k for k in self._clients if k[0] == target.code]:  # credentials changed
                    self._clients.pop(old).close()
                self._clients[key] = client
            return client

    def _spend_quota(self, target: Target) -> None:
        per_hour = float(target.config.get("posts_per_hour", 30))
        key = (target.code, per_hour)
        with self._buckets_lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(per_hour / 3600, max(int(per_hour), 1))
        if not bucket.acquire(timeout=self._quota_wait):
            raise RetryableError(
                f"posting quota for Weibo account {target.code} ({per_hour:g}/hour) is used up",
                retry_after=max(bucket.wait_time(), 1.0),
            )


def client_for(target: Target) -> WeiboClient:
    """The default client factory: everything from Target.config."""
    cfg = target.config
    token = cfg.get("access_token")
    if not token:
        raise PermanentError(f"Weibo account {target.code} has no access_token: connect the account first")
    return WeiboClient(
        token, base_url=cfg.get("api_base_url") or DEFAULT_BASE_URL, timeout=float(cfg.get("timeout", 10.0))
    )


def to_connector_error(exc: WeiboError, *, effectful: bool, account: str = "") -> ConnectorError:
    """Rank a client error. `effectful`: the call could change something on Weibo (a share), so an
    unanswered call may have taken effect and must be verified before any retry."""
    where = f" (account {account})" if account else ""
    code = getattr(exc, "error_code", None)
    if isinstance(exc, WeiboConnectionError):
        return RetryableError(f"Weibo unreachable{where}: {exc}")
    if isinstance(exc, WeiboNoResponseError):
        if effectful:
            return OutcomeUnknownError(f"no answer from Weibo{where}; the post may exist, verify first: {exc}")
        return RetryableError(f"no answer from Weibo{where}: {exc}")
    if isinstance(exc, WeiboBadResponseError):
        if exc.http_status == 504 and effectful:
            return OutcomeUnknownError(f"gateway timeout from Weibo{where}; verify first: {exc}", code=504)
        if exc.http_status >= 500 or exc.http_status == 429:
            return RetryableError(f"Weibo is failing{where}: {exc}", code=exc.http_status)
        return PermanentError(f"unexpected answer from Weibo{where} (check api_base_url): {exc}", code=exc.http_status)
    if isinstance(exc, WeiboPending):
        return OutcomeUnknownError(f"Weibo accepted the post but has not shown it yet{where}: {exc}", code=code)
    if isinstance(exc, WeiboRateLimitError):
        return RetryableError(f"Weibo rate limit{where}: {exc}", code=code, retry_after=RETRY_AFTER.get(code, 60.0))
    if isinstance(exc, WeiboAuthError):
        if code in RECONNECT_CODES:
            return PermanentError(
                f"the Weibo token{where} is expired or revoked ({code} {exc.error}): reconnect the account "
                "(re-authorise it in the console; Weibo web apps get no refresh token)",
                code=code,
            )
        return PermanentError(f"Weibo refused the app's authorisation{where}: {exc}", code=code)
    if isinstance(exc, WeiboContentError):
        if code == 20012:
            return PermanentError(f"post too long for Weibo{where} — a render bug: {exc}", code=code)
        if code == 10017:
            return PermanentError(
                f"Weibo found no link on the app's safe domain (安全域名){where}: the canonical URL's host must "
                f"be registered in the Weibo app settings: {exc}",
                code=code,
            )
        return PermanentError(f"Weibo refused the content{where}; needs human review: {exc}", code=code)
    if isinstance(exc, WeiboDuplicateError):
        return PermanentError(f"Weibo says the post is a duplicate{where}: {exc}", code=code)
    if isinstance(exc, WeiboAPIError):
        if code in BUSY_CODES or exc.http_status >= 500:
            return RetryableError(f"Weibo is busy{where}: {exc}", code=code)
        if code == 10014:
            return PermanentError(
                f"Weibo denies this API to the app{where} (statuses/update and upload are closed; use share): {exc}",
                code=code,
            )
        return PermanentError(f"Weibo refused the request{where}: {exc}", code=code)
    return RetryableError(f"Weibo client error{where}: {exc}")


@contextmanager
def _translated(*, effectful: bool, account: str = "") -> Iterator[None]:
    try:
        yield
    except WeiboError as exc:
        raise to_connector_error(exc, effectful=effectful, account=account) from exc


def _idstr(status: dict[str, Any]) -> str:
    """Ids exceed 2^53: use `idstr`, never a float-parsed `id`."""
    return str(status.get("idstr") or status["id"])


def _matches(status: dict[str, Any], item: ItemSnapshot, post: WeiboPost | None) -> bool:
    text = status.get("text") or ""
    return item.canonical_url in text and (post is None or _same_text(text, post["status"]))


def _same_text(a: str, b: str) -> bool:
    return _comparable(a) == _comparable(b)


def _comparable(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PZC").casefold()
