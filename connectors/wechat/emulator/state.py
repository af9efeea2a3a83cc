"""The emulated WeChat platform: accounts, tokens, materials, drafts, publish jobs, articles.

Plain Python under one lock, no HTTP: `app.py` turns requests into these calls and `ApiError`s
into `{"errcode","errmsg"}` replies. Rules follow PLATFORMS.md §1.4 (wire shapes) and §1.7.

Publishing is a state machine evaluated lazily: `freepublish/submit` creates a job in status 1
(publishing) that becomes terminal once its delay has passed; every call first moves due jobs on,
so the outcome is the same whether or not anybody polls, and no background thread is needed.
"""

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from connectors.wechat.emulator.content import extension_format, filter_content, plain_text, sniff_image, url_key

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40009: "invalid image size",
    40012: "invalid thumb size",
    40013: "invalid appid",
    40014: "invalid access_token",
    40097: "invalid args",
    40114: "invalid index value",
    40125: "invalid appsecret",
    40164: "invalid ip, not in whitelist",
    41001: "access_token missing",
    41004: "appsecret missing",
    41005: "media data missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44001: "empty media data",
    44002: "empty post data",
    44003: "empty news data",
    44004: "empty content",
    45002: "content size out of limit",
    45003: "title size out of limit",
    45004: "description size out of limit",
    45005: "url size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    45110: "author size out of limit",
    45166: "invalid content",
    47001: "data format error",
    48001: "api unauthorized",
    50002: "user limited",
    53500: "发表功能被封禁",
    53501: "频繁请求发表",
    53502: "Publish ID 无效",
    53503: "该草稿未通过发布检查",
    53504: "需前往公众平台官网使用草稿",
    53505: "请手动保存成功后再发表",
    53600: "Article ID 无效",
}

TOKEN_RENEW_BEFORE_S = 300  # stable_token hands out a new token this long before the old one expires
FORCE_REFRESH_PER_DAY = 20
MAX_TITLE, MAX_AUTHOR, MAX_DIGEST = 32, 16, 128
MAX_CONTENT_CHARS, MAX_CONTENT_BYTES, MAX_SOURCE_URL_BYTES = 20_000, 1024 * 1024, 1024
MAX_ARTICLES = 8
MAX_IMAGE_BYTES, MAX_THUMB_BYTES, MAX_UPLOADIMG_BYTES = 2 * 1024 * 1024, 64 * 1024, 1024 * 1024


def rid() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


class ApiError(Exception):
    """A WeChat error reply: HTTP 200 with errcode and an errmsg ending in ` rid: …`."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": f"{self.errmsg} rid: {rid()}"}


@dataclass
class EmulatorConfig:
    """Accounts (appid → secret) and the platform's timings; every field but `accounts` has a default."""

    accounts: dict[str, str]
    token_ttl_s: int = 7200
    token_grace_s: int = 300  # a replaced token keeps working this long (WeChat: 5 minutes)
    token_daily_limit: int = 2000  # GET /cgi-bin/token calls per account per day → 45009
    publish_delay_ms: int = 300  # how long a publish job stays in status 1
    publish_outcome: int = 0  # the terminal publish_status of new jobs
    stall_ms: int = 10_000  # the longest a timeout-after-effect fault holds the reply back
    article_base_url: str = "https://mp.weixin.qq.com/s/"
    image_host: str = "http://mmbiz.qpic.cn"


@dataclass
class _Token:
    value: str
    appid: str
    stable: bool
    expires_at: float
    revoked_at: float | None = None  # replaced: invalid from this moment


@dataclass
class _Job:
    publish_id: str
    appid: str
    msg_data_id: str
    articles: list[dict]
    ready_at: float
    outcome: int
    status: int = 1
    article_id: str | None = None
    fail_idx: list[int] = field(default_factory=list)


@dataclass
class _Article:
    article_id: str
    appid: str
    publish_id: str
    items: list[dict]
    published_at: float

    @property
    def all_deleted(self) -> bool:
        return all(item["is_deleted"] for item in self.items)


def _media_id() -> str:
    return secrets.token_urlsafe(32)


class WeChatState:
    """Everything the emulated platform remembers; thread-safe, reset with `reset()`."""

    def __init__(self, config: EmulatorConfig, clock=time.time):
        self.config = config
        self._clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._tokens: dict[str, _Token] = {}
            self._current: dict[tuple[str, bool], str] = {}
            self._token_calls: dict[tuple[str, str], int] = {}  # (appid, yyyy-mm-dd) → GET token calls
            self._force_refreshes: dict[tuple[str, str], int] = {}
            self._materials: dict[str, dict] = {}  # media_id → material
            self._issued_urls: set[str] = set()
            self._drafts: dict[str, dict] = {}  # media_id → draft
            self._jobs: dict[str, _Job] = {}
            self._articles: dict[str, _Article] = {}
            self._seq = 0
            self.publish_delay_ms = self.config.publish_delay_ms
            self.publish_outcome = self.config.publish_outcome
            self._log: list[dict] = []

    # ------------------------------------------------------------------ tokens

    def _check_credentials(self, grant_type: Any, appid: Any, secret: Any) -> str:
        if grant_type != "client_credential":
            raise ApiError(40002)
        if appid not in self.config.accounts:
            raise ApiError(40013)
        if not secret:
            raise ApiError(41004)
        if secret != self.config.accounts[appid]:
            raise ApiError(40125)
        return appid

    def _day(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self._clock() + 8 * 3600))  # quotas reset at 00:00 Beijing

    def _issue(self, appid: str, stable: bool) -> _Token:
        now = self._clock()
        old = self._tokens.get(self._current.get((appid, stable), ""))
        if old and old.revoked_at is None:
            old.revoked_at = now + self.config.token_grace_s
        token = _Token(f"{90 + stable}_{secrets.token_urlsafe(96)}", appid, stable, now + self.config.token_ttl_s)
        self._tokens[token.value] = token
        self._current[(appid, stable)] = token.value
        return token

    def fetch_token(self, query: dict) -> dict:
        """GET /cgi-bin/token: a new token every call; the previous one lapses after the grace period."""
        with self._lock:
            appid = self._check_credentials(query.get("grant_type"), query.get("appid"), query.get("secret"))
            key = (appid, self._day())
            self._token_calls[key] = self._token_calls.get(key, 0) + 1
            if self._token_calls[key] > self.config.token_daily_limit:
                raise ApiError(45009)
            token = self._issue(appid, stable=False)
            return {"access_token": token.value, "expires_in": self.config.token_ttl_s}

    def stable_token(self, body: dict) -> dict:
        """POST /cgi-bin/stable_token: the same token until close to expiry, unless force_refresh."""
        with self._lock:
            appid = self._check_credentials(body.get("grant_type"), body.get("appid"), body.get("secret"))
            now = self._clock()
            current = self._tokens.get(self._current.get((appid, True), ""))
            if body.get("force_refresh") in (True, "true", 1):
                key = (appid, self._day())
                self._force_refreshes[key] = self._force_refreshes.get(key, 0) + 1
                if self._force_refreshes[key] > FORCE_REFRESH_PER_DAY:
                    raise ApiError(45009)
                current = None
            if current is None or current.revoked_at is not None or current.expires_at - now <= TOKEN_RENEW_BEFORE_S:
                current = self._issue(appid, stable=True)
            return {"access_token": current.value, "expires_in": int(current.expires_at - now)}

    def check_token(self, value: str | None) -> str:
        """The appid a token belongs to, or the error WeChat gives for it (41001/40014/40001/42001)."""
        if not value:
            raise ApiError(41001)
        if not value.replace("_", "").replace("-", "").isalnum():
            raise ApiError(40014)
        with self._lock:
            token = self._tokens.get(value)
            now = self._clock()
            if token is None or (token.revoked_at is not None and now >= token.revoked_at):
                raise ApiError(40001)
            if now >= token.expires_at:
                raise ApiError(42001)
            return token.appid

    def expire_tokens(self) -> int:
        """Control: every token issued so far expires now (→ 42001 until the client fetches again)."""
        with self._lock:
            now = self._clock()
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, now)
            return len(self._tokens)

    # ------------------------------------------------------------------ media

    def add_material(self, appid: str, media_type: str | None, filename: str, data: bytes) -> dict:
        """POST material/add_material: permanent image (≤2 MB) or thumb (≤64 KB JPG)."""
        if media_type not in ("image", "thumb"):
            raise ApiError(40004)
        if not data:
            raise ApiError(44001)
        fmt, claimed = sniff_image(data), extension_format(filename)
        allowed = {"jpg"} if media_type == "thumb" else {"jpg", "png", "gif", "bmp"}
        if fmt not in allowed or claimed not in allowed:
            raise ApiError(40005)
        if media_type == "thumb" and len(data) > MAX_THUMB_BYTES:
            raise ApiError(40012)
        if len(data) > MAX_IMAGE_BYTES:
            raise ApiError(40009)
        with self._lock:
            media_id = _media_id()
            url = self._image_url(fmt) if media_type == "image" else ""
            self._materials[media_id] = {"appid": appid, "type": media_type, "filename": filename, "url": url}
            return {"media_id": media_id, "url": url}

    def upload_image(self, appid: str, filename: str, data: bytes) -> dict:
        """POST media/uploadimg: a jpg/png under 1 MB for use inside article content → its URL."""
        if not data:
            raise ApiError(44001)
        fmt, claimed = sniff_image(data), extension_format(filename)
        if fmt not in ("jpg", "png") or claimed not in ("jpg", "png"):
            raise ApiError(40005)
        if len(data) >= MAX_UPLOADIMG_BYTES:
            raise ApiError(40009)
        with self._lock:
            url = self._image_url(fmt)
            self._issued_urls.add(url_key(url))
            return {"url": url, "errcode": 0, "errmsg": "ok"}

    def _image_url(self, fmt: str) -> str:
        wx_fmt = "jpeg" if fmt == "jpg" else fmt
        return f"{self.config.image_host}/mmbiz_{fmt}/{secrets.token_urlsafe(40)}/0?wx_fmt={wx_fmt}"

    def _material(self, appid: str, media_id: Any) -> dict:
        material = self._materials.get(media_id) if isinstance(media_id, str) else None
        if material is None or material["appid"] != appid:
            raise ApiError(40007)
        return material

    # ------------------------------------------------------------------ drafts

    def _article(self, appid: str, raw: Any) -> dict:
        """Validate one draft article the way draft/add and draft/update do, and filter its content."""
        if not isinstance(raw, dict):
            raise ApiError(47001)
        article_type = raw.get("article_type", "news") or "news"
        if article_type not in ("news", "newspic"):
            raise ApiError(47001)
        title, author, digest = raw.get("title"), raw.get("author") or "", raw.get("digest") or ""
        content, source = raw.get("content"), raw.get("content_source_url") or ""
        if not isinstance(title, str) or not title.strip():
            raise ApiError(44003)
        if not all(isinstance(v, str) for v in (author, digest, source)):
            raise ApiError(47001)
        if not isinstance(content, str) or not content.strip():
            raise ApiError(44004)
        if len(title) > MAX_TITLE:
            raise ApiError(45003)
        if len(author) > MAX_AUTHOR:
            raise ApiError(45110)
        if len(digest) > MAX_DIGEST:
            raise ApiError(45004)
        if len(content) >= MAX_CONTENT_CHARS or len(content.encode()) >= MAX_CONTENT_BYTES:
            raise ApiError(45002)
        if len(source.encode()) > MAX_SOURCE_URL_BYTES:
            raise ApiError(45005)
        thumb_url = ""
        if article_type == "news":
            thumb = self._material(appid, raw.get("thumb_media_id"))
            thumb_url = thumb["url"]
        else:
            images = (raw.get("image_info") or {}).get("image_list") or []
            if not images or len(images) > 20:
                raise ApiError(47001)
            for image in images:
                self._material(appid, (image or {}).get("image_media_id"))
        content = filter_content(content, self._issued_urls)
        return {
            "article_type": article_type,
            "title": title,
            "author": author,
            "digest": digest or plain_text(content)[:54],
            "content": content,
            "content_source_url": source,
            "thumb_media_id": raw.get("thumb_media_id", ""),
            "thumb_url": thumb_url,
            "show_cover_pic": 0,
            "need_open_comment": int(bool(raw.get("need_open_comment", 0))),
            "only_fans_can_comment": int(bool(raw.get("only_fans_can_comment", 0))),
        }

    def _draft(self, appid: str, media_id: Any) -> dict:
        draft = self._drafts.get(media_id) if isinstance(media_id, str) else None
        if draft is None or draft["appid"] != appid:
            raise ApiError(40007)
        return draft

    @staticmethod
    def _temp_url(media_id: str) -> str:
        return f"http://mp.weixin.qq.com/s?__biz=emulator&mid={media_id[:10]}&tempkey={secrets.token_urlsafe(24)}"

    def draft_add(self, appid: str, body: dict) -> dict:
        articles = body.get("articles")
        if not isinstance(articles, list) or not articles:
            raise ApiError(44003)
        if len(articles) > MAX_ARTICLES:
            raise ApiError(45008)
        with self._lock:
            checked = [self._article(appid, raw) for raw in articles]
            media_id = _media_id()
            for article in checked:
                article["url"] = self._temp_url(media_id)
            now = int(self._clock())
            self._drafts[media_id] = {"appid": appid, "media_id": media_id, "articles": checked, "update_time": now}
            return {"media_id": media_id}

    def draft_get(self, appid: str, body: dict) -> dict:
        with self._lock:
            return {"news_item": [dict(a) for a in self._draft(appid, body.get("media_id"))["articles"]]}

    def draft_update(self, appid: str, body: dict) -> dict:
        with self._lock:
            draft = self._draft(appid, body.get("media_id"))
            index = body.get("index")
            if not isinstance(index, int) or not 0 <= index < len(draft["articles"]):
                raise ApiError(40114)
            article = self._article(appid, body.get("articles"))
            article["url"] = draft["articles"][index]["url"]
            draft["articles"][index] = article
            draft["update_time"] = int(self._clock())
            return {"errcode": 0, "errmsg": "ok"}

    def draft_delete(self, appid: str, body: dict) -> dict:
        with self._lock:
            draft = self._draft(appid, body.get("media_id"))
            del self._drafts[draft["media_id"]]
            return {"errcode": 0, "errmsg": "ok"}

    def draft_count(self, appid: str) -> dict:
        with self._lock:
            return {"total_count": sum(1 for d in self._drafts.values() if d["appid"] == appid)}

    def draft_batchget(self, appid: str, body: dict) -> dict:
        offset, count, no_content = _page(body)
        with self._lock:
            drafts = sorted((d for d in self._drafts.values() if d["appid"] == appid), key=lambda d: -d["update_time"])
            page = drafts[offset : offset + count]
            items = [
                {
                    "media_id": d["media_id"],
                    "content": {"news_item": _items(d["articles"], no_content)},
                    "update_time": d["update_time"],
                }
                for d in page
            ]
            return {"total_count": len(drafts), "item_count": len(items), "item": items}

    # ------------------------------------------------------------------ publishing

    def _advance(self) -> None:
        """Move every publish job whose delay has passed to its terminal status."""
        now = self._clock()
        for job in self._jobs.values():
            if job.status != 1 or now < job.ready_at:
                continue
            job.status = job.outcome
            if job.outcome == 0:
                article_id = job.article_id = secrets.token_urlsafe(32)
                url = self.config.article_base_url + article_id
                items = [
                    {**news, "url": url if idx == 1 else f"{url}?idx={idx}", "is_deleted": False}
                    for idx, news in enumerate(job.articles, start=1)
                ]
                self._articles[article_id] = _Article(article_id, job.appid, job.publish_id, items, job.ready_at)
            elif job.outcome in (2, 4):
                job.fail_idx = list(range(1, len(job.articles) + 1))

    def publish_submit(self, appid: str, body: dict) -> dict:
        with self._lock:
            draft = self._draft(appid, body.get("media_id"))
            del self._drafts[draft["media_id"]]  # a submitted draft leaves the draft box
            self._seq += 1
            job = _Job(
                publish_id=str(2247483647 + self._seq),
                appid=appid,
                msg_data_id=str(2247483647 + self._seq),
                articles=draft["articles"],
                ready_at=self._clock() + self.publish_delay_ms / 1000,
                outcome=self.publish_outcome,
            )
            self._jobs[job.publish_id] = job
            self._advance()
            return {"errcode": 0, "errmsg": "ok", "publish_id": job.publish_id, "msg_data_id": job.msg_data_id}

    def publish_get(self, appid: str, body: dict) -> dict:
        with self._lock:
            self._advance()
            job = self._jobs.get(str(body.get("publish_id", "")))
            if job is None or job.appid != appid:
                raise ApiError(53502)
            reply: dict[str, Any] = {"publish_id": job.publish_id, "publish_status": job.status}
            if job.status == 0:
                article = self._articles[job.article_id]
                if article.all_deleted:
                    reply["publish_status"] = 5
                reply["article_id"] = job.article_id
                reply["article_detail"] = {
                    "count": len(article.items),
                    "item": [{"idx": i, "article_url": item["url"]} for i, item in enumerate(article.items, start=1)],
                }
            reply["fail_idx"] = list(job.fail_idx)
            return reply

    def _published(self, appid: str, article_id: Any) -> _Article:
        self._advance()
        article = self._articles.get(article_id) if isinstance(article_id, str) else None
        if article is None or article.appid != appid:
            raise ApiError(53600)
        return article

    def publish_delete(self, appid: str, body: dict) -> dict:
        """freepublish/delete: index is 1-based; 0 or absent deletes every article of the post."""
        with self._lock:
            article = self._published(appid, body.get("article_id"))
            if article.all_deleted:
                raise ApiError(53600)
            index = body.get("index") or 0
            if not isinstance(index, int) or not 0 <= index <= len(article.items):
                raise ApiError(40114)
            for item in article.items if index == 0 else [article.items[index - 1]]:
                item["is_deleted"] = True
            return {"errcode": 0, "errmsg": "ok"}

    def publish_getarticle(self, appid: str, body: dict) -> dict:
        with self._lock:
            return {"news_item": [dict(item) for item in self._published(appid, body.get("article_id")).items]}

    def publish_batchget(self, appid: str, body: dict) -> dict:
        """The account's successful posts, newest first; posts whose articles were all deleted are gone."""
        offset, count, no_content = _page(body)
        with self._lock:
            self._advance()
            posts = [a for a in self._articles.values() if a.appid == appid and not a.all_deleted]
            posts.sort(key=lambda a: -a.published_at)
            items = [
                {
                    "article_id": a.article_id,
                    "content": {"news_item": _items(a.items, no_content)},
                    "update_time": int(a.published_at),
                }
                for a in posts[offset : offset + count]
            ]
            return {"total_count": len(posts), "item_count": len(items), "item": items}

    # ------------------------------------------------------------------ sandbox controls

    def set_publishing(self, delay_ms: int | None, outcome: int | None) -> None:
        """Control: how long new publish jobs run and how they end (None: the configured default)."""
        with self._lock:
            self.publish_delay_ms = self.config.publish_delay_ms if delay_ms is None else delay_ms
            self.publish_outcome = self.config.publish_outcome if outcome is None else outcome

    def posts(self, appid: str | None = None) -> list[dict]:
        """Every article ever published (deleted ones flagged), oldest first: tests count duplicates here."""
        with self._lock:
            self._advance()
            rows = []
            for article in sorted(self._articles.values(), key=lambda a: a.published_at):
                if appid and article.appid != appid:
                    continue
                for idx, item in enumerate(article.items, start=1):
                    rows.append(
                        {
                            "appid": article.appid,
                            "article_id": article.article_id,
                            "publish_id": article.publish_id,
                            "idx": idx,
                            "title": item["title"],
                            "author": item["author"],
                            "digest": item["digest"],
                            "content": item["content"],
                            "content_source_url": item["content_source_url"],
                            "url": item["url"],
                            "published_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(article.published_at)),
                            "deleted": item["is_deleted"],
                        }
                    )
            return rows

    def record(self, entry: dict) -> None:
        with self._lock:
            entry["seq"] = len(self._log) + 1
            self._log.append(entry)

    def requests(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._log if path is None or e["path"].endswith(path)]


def _page(body: dict) -> tuple[int, int, bool]:
    offset, count = body.get("offset", 0), body.get("count", 20)
    if not isinstance(offset, int) or not isinstance(count, int) or offset < 0 or not 1 <= count <= 20:
        raise ApiError(40097)
    return offset, count, bool(body.get("no_content", 0))


def _items(articles: list[dict], no_content: bool) -> list[dict]:
    return [{k: v for k, v in a.items() if not (no_content and k == "content")} for a in articles]
