"""The WeChat channel: publish an item as an official-account article (draft → freepublish).

publish   upload the cover (material/add_material) and each inline image (media/uploadimg),
          add the draft, submit it (freepublish/submit), then poll freepublish/get for up to
          `poll_seconds`. A finished job gives a `succeeded` receipt (external_id = article_id,
          url = the article URL); a job still running gives `remote_pending` (external_id =
          publish_id) for `verify` to finish later. Only the submit has a public effect, so
          only a lost answer to it raises OutcomeUnknownError.
verify    what does WeChat hold for an earlier receipt? With an article_id: the article while
          it is live (freepublish/getarticle), None once deleted. With only a publish_id: the
          job's state (freepublish/get). With neither: a live article whose 阅读原文 link is the
          item's canonical URL and whose title matches (freepublish/batchget); if there is none
          but our draft is still in the draft box, the submit never happened (None); otherwise
          the job may still be running, so keep looking for up to `poll_seconds`, then None.
take_down freepublish/delete(article_id, 0); 53600 (no such article) means it is already gone.
correct   WeChat cannot edit a published article, so a correction deletes the old article first
          and then publishes the new revision, which carries its 更正说明 at the top. Deleting
          first means two versions are never live side by side, and a retried correction is
          safe: the delete is idempotent and the publish goes through the usual verify path.
          The price is a few seconds with no article while the new one publishes.

Target.config keys (only appid and secret are required):

    appid, secret      the official account
    api_base_url       default https://api.weixin.qq.com/cgi-bin/ (an emulator's root in tests)
    timeout            seconds per HTTP call, default 10
    poll_seconds       how long publish/verify wait for a publish job, default 3
    poll_interval      seconds between polls, default 0.5
    rate_per_sec, burst, queue_timeout
                       the per-account token bucket: API calls per second (default 5), burst
                       (default 10), and how long a call may queue for quota (default 30 s)
    cover_type         "image" (default) or "thumb" (JPG ≤ 64 KB)
    default_cover      sha256 of a stored image for items without one (else a plain cover)
    open_comment       open comments on the article, default false
"""

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from PIL import UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from wechatpy import WeChatClient
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

from connectors.base import MediaSource, OutcomeUnknownError, PermanentError, RetryableError, classify_default
from connectors.ratelimit import TokenBucket
from connectors.wechat.client import DEFAULT_TIMEOUT, WECHAT_API_BASE_URL, CKWeChatClient
from connectors.wechat.errors import INVALID_MEDIA_ID, TAKEN_DOWN_CODE, publish_failed, to_connector_error
from connectors.wechat.images import COVER_IMAGE, COVER_THUMB, INLINE_IMAGE, ImageRule, fit_image, placeholder_cover
from connectors.wechat.render import WeChatArticle, render_article
from schemas.delivery import DeliveryState, ErrorClass, Receipt, Target
from schemas.item import ItemSnapshot

SEARCH_PAGES = 5  # freepublish/batchget pages (20 posts each) searched by verify


class AccountConfig(BaseModel):
    """Target.config for one official account, with defaults (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    appid: str = Field(min_length=1)
    secret: str = Field(min_length=1)
    api_base_url: str = WECHAT_API_BASE_URL
    timeout: float = Field(DEFAULT_TIMEOUT, gt=0)
    poll_seconds: float = Field(3.0, ge=0)
    poll_interval: float = Field(0.5, gt=0)
    rate_per_sec: float = Field(5.0, gt=0)
    burst: int = Field(10, ge=1)
    queue_timeout: float = Field(30.0, ge=0)
    cover_type: Literal["image", "thumb"] = "image"
    default_cover: str | None = None

    @classmethod
    def from_target(cls, target: Target) -> "AccountConfig":
        try:
            return cls.model_validate({k: v for k, v in target.config.items() if v is not None})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise PermanentError(f"WeChat target {target.code!r} is misconfigured: {problems}", code="config") from None


ClientFactory = Callable[[AccountConfig], WeChatClient]


@dataclass
class _Account:
    """One operation's view of an account: its settings, a client, and the account's rate bucket."""

    config: AccountConfig
    client: WeChatClient
    bucket: TokenBucket

    def call(self, action: str, fn: Callable, *args: Any, effectful: bool = False) -> Any:
        """One API call: wait for quota, then map failures to the kitchen's error classes."""
        if not self.bucket.acquire(self.config.queue_timeout):
            raise RetryableError(
                f"WeChat {self.config.appid}: no API quota within {self.config.queue_timeout}s",
                code="rate_limited",
                retry_after=max(1.0, self.bucket.wait_time()),
            )
        try:
            return fn(*args)
        except Exception as error:
            mapped = to_connector_error(error, action=action, effectful=effectful)
            if mapped is error:
                raise
            raise mapped from error


class WeChatConnector:
    """connectors.base.Connector for channel "wechat" (one target = one official account)."""

    channel = "wechat"

    def __init__(
        self,
        media: MediaSource,
        client_factory: ClientFactory | None = None,
        *,
        session: SessionStorage | None = None,
    ):
        """`session` holds access tokens for every client this connector makes (see client.py);
        `client_factory` builds the client for an account, default CKWeChatClient."""
        self.media = media
        self._session = session or MemoryStorage()
        self._client_factory = client_factory or self._default_client
        self._buckets: dict[str, TokenBucket] = {}
        self._buckets_lock = threading.Lock()
        # (API base, appid, cover type, sha256 of the fitted cover) → the permanent material's media_id:
        # one cover is uploaded once per account, not once per article
        self._covers: dict[tuple[str, str, str, str], str] = {}

    def _default_client(self, config: AccountConfig) -> WeChatClient:
        return CKWeChatClient(
            config.appid, config.secret, api_base_url=config.api_base_url, session=self._session, timeout=config.timeout
        )

    def _account(self, target: Target) -> _Account:
        config = AccountConfig.from_target(target)
        with self._buckets_lock:
            bucket = self._buckets.get(config.appid)
            if bucket is None:
                bucket = self._buckets[config.appid] = TokenBucket(config.rate_per_sec, config.burst)
        return _Account(config, self._client_factory(config), bucket)

    # ------------------------------------------------------------------ Connector

    def render(self, item: ItemSnapshot, target: Target) -> WeChatArticle:
        return render_article(item, open_comment=bool(target.config.get("open_comment", False)))

    def publish(self, item: ItemSnapshot, target: Target) -> Receipt:
        account = self._account(target)
        client = account.client
        article = self.render(item, target)
        cover = self._cover(account.config, article)  # read and fit every image before the first call
        inline = {sha: self._image(sha, INLINE_IMAGE, sha[:16]) for sha in article.images}

        thumb_id, cached = self._thumb(account, cover)
        image_urls = {sha: account.call("media/uploadimg", client.media.upload_image, f) for sha, f in inline.items()}
        try:
            draft = account.call("draft/add", client.draft.add, [article.draft(thumb_id, image_urls)])
        except PermanentError as error:
            if not (cached and error.code == INVALID_MEDIA_ID):
                raise
            # the account deleted that material since we uploaded it: upload the cover again, once
            thumb_id, _ = self._thumb(account, cover, forget=True)
            draft = account.call("draft/add", client.draft.add, [article.draft(thumb_id, image_urls)])
        submitted = account.call("freepublish/submit", client.freepublish.submit, draft["media_id"], effectful=True)
        detail = {
            "appid": account.config.appid,
            "item_id": item.id,
            "revision": item.revision,
            "title": article.title,
            "media_id": draft["media_id"],
            "publish_id": str(submitted["publish_id"]),
        }
        return self._settle(account, detail)

    def verify(self, item: ItemSnapshot, target: Target, previous: Receipt | None) -> Receipt | None:
        """Is the article of `previous` live (by article_id), did its job finish (by publish_id), or
        is the item live on the account at all (search)? None when WeChat shows no trace."""
        account = self._account(target)
        detail = dict(previous.detail) if previous else {}
        article_id = _article_id_of(previous)
        if article_id:
            return self._live_article(account, article_id, detail)
        if detail.get("publish_id"):
            status = self._job_status(account, detail["publish_id"])
            return None if status is None else self._receipt(status, detail)
        return self._find(account, item, self.render(item, target))

    def take_down(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        account = self._account(target)
        detail = {**previous.detail, "item_id": item.id}
        article_id = self._article_id(account, item, target, previous)
        if article_id is None:
            detail.update(deleted=False, note="nothing was published")
            return Receipt(external_id=previous.external_id, detail=detail)
        already_gone = False
        try:
            account.call("freepublish/delete", account.client.freepublish.delete, article_id, 0)
        except PermanentError as error:
            if error.code != TAKEN_DOWN_CODE:
                raise
            already_gone = True
        return Receipt(
            external_id=article_id,
            url=previous.url,
            detail={**detail, "article_id": article_id, "deleted": True, "already_gone": already_gone},
        )

    def correct(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        """Delete the old article, then publish this revision (WeChat cannot edit a published one)."""
        removed = self.take_down(item, target, previous)
        receipt = self.publish(item, target)
        replaced = removed.detail.get("article_id")
        return receipt.model_copy(update={"detail": {**receipt.detail, "replaced_article_id": replaced}})

    def classify(self, error: Exception) -> ErrorClass:
        return classify_default(to_connector_error(error, action="call", effectful=True))

    # ------------------------------------------------------------------ media

    def _read(self, sha: str) -> bytes:
        try:
            return self.media.read(sha)
        except (OSError, ValueError) as error:
            raise PermanentError(f"media {sha} cannot be read from the store: {error}", code="media") from error

    def _image(self, sha: str, rule: ImageRule, name: str) -> tuple[str, bytes, str]:
        try:
            return fit_image(self._read(sha), rule, name)
        except UnidentifiedImageError as error:
            raise PermanentError(f"media {sha} is not an image WeChat can take", code="media") from error

    def _thumb(self, account: _Account, cover: tuple[str, bytes, str], forget: bool = False) -> tuple[str, bool]:
        """The media_id of `cover` on this account: uploaded once (material/add_material), then
        reused. Returns (media_id, whether it came from the cache)."""
        key = (account.config.api_base_url, account.config.appid, account.config.cover_type, hashlib.sha256(cover[1]).hexdigest())
        if forget:
            self._covers.pop(key, None)
        elif key in self._covers:
            return self._covers[key], True
        added = account.call("material/add_material", account.client.material.add, account.config.cover_type, cover)
        self._covers[key] = added["media_id"]
        return added["media_id"], False

    def _cover(self, config: AccountConfig, article: WeChatArticle) -> tuple[str, bytes, str]:
        """The item's cover, else the account's default cover, else a plain one: WeChat requires a cover."""
        rule = COVER_THUMB if config.cover_type == "thumb" else COVER_IMAGE
        sha = article.cover or config.default_cover
        if sha:
            return self._image(sha, rule, f"cover-{sha[:16]}")
        return _plain_cover(rule)

    # ------------------------------------------------------------------ publish jobs

    def _job_status(self, account: _Account, publish_id: str) -> dict | None:
        """freepublish/get, or None when WeChat knows no such job (53502)."""
        try:
            return account.call("freepublish/get", account.client.freepublish.get, publish_id)
        except PermanentError as error:
            if error.code == 53502:
                return None
            raise

    def _receipt(self, status: dict, detail: dict) -> Receipt:
        """The receipt for a freepublish/get answer; failed jobs (publish_status 2/3/4) raise PermanentError."""
        code = int(status.get("publish_status", 1))
        detail = {**detail, "publish_status": code}
        if code == 1:
            return Receipt(state=DeliveryState.remote_pending, external_id=detail["publish_id"], detail=detail)
        if code in (2, 3, 4):
            raise publish_failed(detail["publish_id"], code)
        urls = [i.get("article_url") for i in (status.get("article_detail") or {}).get("item") or []]
        detail.update(article_id=status.get("article_id"), article_urls=urls)
        if code in (5, 6):  # published, then deleted by the account (5) or blocked by WeChat (6)
            detail["removed"] = True
        return Receipt(external_id=status.get("article_id"), url=urls[0] if urls else None, detail=detail)

    def _settle(self, account: _Account, detail: dict) -> Receipt:
        """Poll a submitted job for up to poll_seconds. It is submitted: lost polls mean pending, not failure."""
        deadline = time.monotonic() + account.config.poll_seconds
        pending = Receipt(state=DeliveryState.remote_pending, external_id=detail["publish_id"], detail=detail)
        while True:
            try:
                status = self._job_status(account, detail["publish_id"])
                receipt = pending if status is None else self._receipt(status, detail)
            except (RetryableError, OutcomeUnknownError):
                receipt = pending
            left = deadline - time.monotonic()
            if receipt.state != DeliveryState.remote_pending or left <= 0:
                return receipt
            time.sleep(min(account.config.poll_interval, left))

    def _article_id(self, account: _Account, item: ItemSnapshot, target: Target, previous: Receipt) -> str | None:
        """The article `previous` published, found through its job or a search; None if there is none."""
        article_id = _article_id_of(previous)
        if article_id:
            return article_id
        publish_id = previous.detail.get("publish_id")
        if publish_id:
            status = self._job_status(account, publish_id)
            if status is not None and int(status.get("publish_status", 1)) == 1:
                raise RetryableError(
                    f"WeChat publish job {publish_id} is still running; take it down once it ends",
                    code="publishing",
                    retry_after=account.config.poll_interval,
                )
            return status.get("article_id") if status else None
        found = self._find(account, item, self.render(item, target))
        return found.external_id if found else None

    def _live_article(self, account: _Account, article_id: str, detail: dict) -> Receipt | None:
        """freepublish/getarticle: the receipt while any article of the post is live, else None."""
        try:
            result = account.call("freepublish/getarticle", account.client.freepublish.getarticle, article_id)
        except PermanentError as error:
            if error.code == TAKEN_DOWN_CODE:
                return None
            raise
        live = [news for news in result.get("news_item") or [] if not news.get("is_deleted")]
        if not live:
            return None
        return Receipt(external_id=article_id, url=live[0].get("url"), detail={**detail, "article_id": article_id})

    # ------------------------------------------------------------------ search

    def _find(self, account: _Account, item: ItemSnapshot, article: WeChatArticle) -> Receipt | None:
        found = self._search_published(account, item, article)
        if found or self._draft_waiting(account, item, article):
            return found
        deadline = time.monotonic() + account.config.poll_seconds
        while found is None and time.monotonic() < deadline:
            time.sleep(account.config.poll_interval)
            found = self._search_published(account, item, article)
        return found

    def _pages(self, account: _Account, action: str, fn: Callable):
        """Yield (entry, news_item) from a batchget listing, newest first, without content."""
        for page in range(SEARCH_PAGES):
            result = account.call(action, fn, page * 20, 20, 1)
            for entry in result.get("item") or []:
                for news in (entry.get("content") or {}).get("news_item") or []:
                    yield entry, news
            if (page + 1) * 20 >= int(result.get("total_count", 0)):
                return

    @staticmethod
    def _is_ours(news: dict, item: ItemSnapshot, article: WeChatArticle) -> bool:
        return news.get("content_source_url") == item.canonical_url and news.get("title") == article.title

    def _search_published(self, account: _Account, item: ItemSnapshot, article: WeChatArticle) -> Receipt | None:
        for entry, news in self._pages(account, "freepublish/batchget", account.client.freepublish.batchget):
            if self._is_ours(news, item, article) and not news.get("is_deleted"):
                detail = {
                    "appid": account.config.appid,
                    "item_id": item.id,
                    "revision": item.revision,
                    "title": article.title,
                    "article_id": entry["article_id"],
                    "found_by": "freepublish/batchget",
                }
                return Receipt(external_id=entry["article_id"], url=news.get("url"), detail=detail)
        return None

    def _draft_waiting(self, account: _Account, item: ItemSnapshot, article: WeChatArticle) -> bool:
        pages = self._pages(account, "draft/batchget", account.client.draft.batchget)
        return any(self._is_ours(news, item, article) for _, news in pages)


def _article_id_of(receipt: Receipt | None) -> str | None:
    """The article a receipt names: succeeded receipts carry it as external_id."""
    if receipt is None:
        return None
    if receipt.detail.get("article_id"):
        return receipt.detail["article_id"]
    return receipt.external_id if receipt.state == DeliveryState.succeeded else None


@functools.lru_cache(maxsize=4)
def _plain_cover(rule: ImageRule) -> tuple[str, bytes, str]:
    """The plain cover, drawn and fitted once per rule."""
    return fit_image(placeholder_cover(), rule, "cover")
