"""A faithful fake of the Weibo open API (PLATFORMS.md §2.8), served on loopback in tests and the demo.

The real API cannot be reached from here, so this is the outside world our httpx client talks to.
It is a model of Weibo, not of our code: it shares nothing with `render.py` on purpose, so a
counting bug in our renderer shows up as a 20012 here.

API (token from `Authorization: OAuth2 <token>`, the `access_token` query or form field):
    POST /2/statuses/share.json          status (+ rip, + multipart pic) → status object
    POST /2/statuses/destroy.json        id → the deleted status; 20101 unknown, 20102 not yours
    GET  /2/statuses/show.json           id → status object; 20101 unknown or deleted
    GET  /2/statuses/user_timeline.json  count, page, since_id, max_id → the token user's posts, newest first
    POST /oauth2/get_token_info          → {"uid", "appkey", "scope", "create_at", "expire_in"}
    POST /2/statuses/update.json, upload.json, upload_url_text.json → 403 10014 (closed legacy API)
Errors are 4xx JSON `{"error", "error_code", "request"}` (but 20032, "success, server slow", comes with
HTTP 200 and that body); unknown paths 10020, wrong method 10021.

share.json rules, in order: token (none 21301 · unknown 21332 HTTP 401 · expired 21327 HTTP 403),
`status` and (if `require_rip`) `rip` present (10016), text not blank (20008), a URL on a safe
domain or a subdomain of one (10017 "text not find domain!"), length (20012), forbidden words
(21602), picture type JPEG/PNG/GIF (20005) and size (20006), the per-user hourly posting counter
(`rate_limit_code`, default 10024, HTTP 403), then duplicates among the user's live posts: the
identical text 20019, the same text once whitespace and punctuation are ignored 20017.

Length: every character counts 1 and every URL counts `url_weight` (default 20, a t.cn short
link), whatever its real length. The real rule (CJK 1, two ASCII ½ each) is unverified, so the
limit and the URL weight are configurable instead.

Control endpoints (the same shape in every emulator):
    GET  /_sandbox/posts           every post ever made, deleted ones too, oldest first:
                                   uid, idstr, text, created_at, deleted, pic_sha256
    POST /_sandbox/faults          replace the fault settings (`Faults` below; 400 on unknown keys);
    GET  /_sandbox/faults          both answer the settings in force, with `remaining` calls of `next_n`
    GET  /_sandbox/requests[?path=]  every API call seen: seq, time, method, path, uid, http_status,
                                   error_code, fault — so tests can count shares and retries
    POST /_sandbox/reset           forget posts, counters, the request log and faults; tokens get
                                   their full lifetime again
"""

import asyncio
import hashlib
import ipaddress
import random
import re
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

URL_RE = re.compile(r"https?://[!-~]+")
BEIJING = timezone(timedelta(hours=8))
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_JPEG, _PNG, _GIFS = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", (b"GIF87a", b"GIF89a")

# code → (HTTP status, error text as Weibo spells it, typos included)
ERRORS: dict[int, tuple[int, str]] = {
    10001: (500, "system error!"),
    10002: (503, "service unavailable!"),
    10003: (500, "remote service error!"),
    10009: (503, "too many pending tasks, system is busy!"),
    10014: (403, "Insufficient app permissions!"),
    10016: (400, "miss required parameter (%s) , see doc for more info."),
    10017: (400, "parameter (%s)'s value invalid, see doc for more info."),
    10020: (404, "Request Api not found!"),
    10021: (405, "HTTP method is not suported for this request!"),
    10022: (403, "IP requests out of rate limit!"),
    10023: (403, "User requests out of rate limit!"),
    10024: (403, "User requests for (statuses/share) out of rate limit!"),
    20005: (400, "Unsupported image type, only suport JPG, GIF, PNG!"),
    20006: (400, "Image size too large!"),
    20007: (400, "Does multipart has image?"),
    20008: (400, "Content is null!"),
    20012: (400, "Text too long, please input text less than 140 characters!"),
    20016: (403, "Out of limit!"),
    20017: (400, "Repeat content!"),
    20018: (400, "Contain illegal website!"),
    20019: (400, "Repeat conetnt!"),
    20020: (400, "Contain advertising!"),
    20021: (400, "Content is illegal!"),
    20032: (200, "Update success, while server slow now, please wait 1-2 minutes!"),
    20101: (400, "Target weibo does not exist!"),
    20102: (403, "Not your own weibo!"),
    20111: (400, "Repeated weibo text!"),
    21301: (401, "auth faild!"),
    21327: (403, "expired_token"),
    21332: (401, "invalid_access_token"),
    21602: (400, "Contains forbid world!"),
}

_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class WeiboAccount:
    """One authorised user. `expires_in` counts from app start or reset; ≤ 0 means already expired."""

    access_token: str
    uid: str
    screen_name: str
    expires_in: float = 30 * 86400
    appkey: str = "3310000001"
    scope: str = ""


@dataclass
class EmulatorConfig:
    accounts: list[WeiboAccount] = field(
        default_factory=lambda: [WeiboAccount("sandbox-weibo-token", "6543210987", "政务发布")]
    )
    safe_domains: list[str] = field(default_factory=lambda: ["gov.cn", "127.0.0.1", "localhost"])
    max_chars: int = 140
    url_weight: int = 20
    require_rip: bool = True
    posts_per_hour: int = 30
    rate_limit_code: int = 10024
    max_pic_bytes: int = 5 * 1024 * 1024
    forbidden_words: list[str] = field(default_factory=list)


class Faults(BaseModel):
    """Fault settings for the API endpoints; posting new settings replaces the old ones.

    Per call (control endpoints excluded), in order: `latency_ms`; `html_502_rate` (an nginx HTML
    502); `http_500_rate` (a bare text 500); `error_rate` (a JSON error with the next code from
    `codes`, taken in turn, default 10001 — nothing done, except 20032 on share.json, which posts
    and then says 20032); `timeout_after_effect_rate` on share/destroy (do it, then hold the answer
    `stall_ms` or until the client hangs up). `next_n` limits all that to the next N matching calls,
    `endpoints` (alias `only_paths`, e.g. ["statuses/share.json"]) to some endpoints. `expire_tokens`
    expires every token until reset; `string_codes` sends error codes as strings, as old doc samples do.
    Rolls use `random.Random(seed)`, so a seeded plan repeats exactly; a rate of 1 always fires.
    """

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(0.0, ge=0, le=1)
    codes: list[int] = Field(default_factory=list)
    http_500_rate: float = Field(0.0, ge=0, le=1)
    html_502_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: int = Field(0, ge=0)
    timeout_after_effect_rate: float = Field(0.0, ge=0, le=1)
    stall_ms: int = Field(15_000, ge=0)
    expire_tokens: bool = False
    string_codes: bool = False
    next_n: int | None = Field(None, ge=0)
    endpoints: list[str] | None = Field(None, validation_alias=AliasChoices("endpoints", "only_paths"))
    seed: int | None = None

    def matches(self, endpoint: str) -> bool:
        return self.endpoints is None or any(endpoint.endswith(e.strip("/")) for e in self.endpoints)


class WeiboReject(Exception):
    """An API error answer; the handler adds `request` and the HTTP status from `ERRORS`."""

    def __init__(self, code: int, error: str | None = None):
        super().__init__(code)
        self.code = code
        self.error = error


class _Raw(Exception):
    """A non-JSON answer (a proxy's HTML page, a crashed worker's bare 500)."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


@dataclass
class _Post:
    uid: str
    idstr: str
    text: str
    created_at: datetime
    rip: str | None
    pic_sha256: str | None = None
    deleted: bool = False


@dataclass
class _Plan:
    """What the faults decided for one call: `action` is None, "html_502", "http_500", "error_code",
    "success_pending" or "timeout_after_effect"."""

    latency: float = 0.0
    action: str | None = None
    code: int | None = None
    stall: float = 0.0


def weibo_length(text: str, url_weight: int) -> int:
    urls = URL_RE.findall(text)
    return len(URL_RE.sub("", text)) + url_weight * len(urls)


def _normalise(text: str) -> str:
    """Text with whitespace, punctuation and control characters removed, for near-duplicates (20017)."""
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PZC").casefold()


def _weibo_time(moment: datetime) -> str:
    t = moment.astimezone(BEIJING)
    return f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t:%d %H:%M:%S} +0800 {t.year}"


def _pic_id(sha256: str) -> str:
    return "006" + sha256[:29]


class WeiboState:
    """All emulator state, behind one lock (the app may be driven from several threads)."""

    def __init__(self, config: EmulatorConfig):
        self.config = config
        self._lock = threading.Lock()
        self._accounts = {a.access_token: a for a in config.accounts}
        self._users = {a.uid: a for a in config.accounts}
        self._last_id = 0
        self.reset()

    def reset(self) -> None:
        with self._lock:
            now = time.time()
            self._expires_at = {a.access_token: now + a.expires_in for a in self.config.accounts}
            self._created_at = now
            self._posts: dict[str, _Post] = {}
            self._post_times: dict[str, deque[float]] = {}
            self._log: list[dict[str, Any]] = []
            self._set_faults(Faults())

    @property
    def faults(self) -> Faults:
        return self._faults

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self._set_faults(faults)

    def _set_faults(self, faults: Faults) -> None:
        self._faults = faults
        self._rng = random.Random(faults.seed)
        self._next_code = 0
        self._fault_calls_left = faults.next_n

    def plan(self, endpoint: str, *, effectful: bool) -> _Plan:
        """Roll the dice for one call."""
        with self._lock:
            f = self._faults
            if not f.matches(endpoint):
                return _Plan()
            if self._fault_calls_left is not None:
                if self._fault_calls_left <= 0:
                    return _Plan()
                self._fault_calls_left -= 1
            rng = self._rng
            latency = f.latency_ms / 1000
            if rng.random() < f.html_502_rate:
                return _Plan(latency, "html_502")
            if rng.random() < f.http_500_rate:
                return _Plan(latency, "http_500")
            if rng.random() < f.error_rate:
                code = f.codes[self._next_code % len(f.codes)] if f.codes else 10001
                self._next_code += 1
                if code == 20032 and endpoint == "statuses/share.json":
                    return _Plan(latency, "success_pending", code)
                return _Plan(latency, "error_code", code)
            if effectful and rng.random() < f.timeout_after_effect_rate:
                return _Plan(latency, "timeout_after_effect", stall=f.stall_ms / 1000)
            return _Plan(latency)

    def fault_settings(self) -> dict[str, Any]:
        with self._lock:
            return {**self._faults.model_dump(), "remaining": self._fault_calls_left}

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append({"seq": len(self._log) + 1, **entry})

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._log if path is None or e["path"].endswith(path)]

    def authenticate(self, token: str | None) -> WeiboAccount:
        if not token:
            raise WeiboReject(21301)
        with self._lock:
            account = self._accounts.get(token)
            if account is None:
                raise WeiboReject(21332)
            if self._faults.expire_tokens or time.time() >= self._expires_at[token]:
                raise WeiboReject(21327)
            return account

    def token_info(self, account: WeiboAccount) -> dict[str, Any]:
        with self._lock:
            expire_in = int(self._expires_at[account.access_token] - time.time())
        return {
            "uid": int(account.uid),
            "appkey": account.appkey,
            "scope": account.scope,
            "create_at": int(self._created_at),
            "expire_in": expire_in,
        }

    def share(self, account: WeiboAccount, text: str | None, rip: str | None, pic: bytes | None) -> _Post:
        cfg = self.config
        if text is None:
            raise WeiboReject(10016, "miss required parameter (status) , see doc for more info.")
        if rip is None and cfg.require_rip:
            raise WeiboReject(10016, "miss required parameter (rip) , see doc for more info.")
        if rip is not None and not _is_ip(rip):
            raise WeiboReject(10017, "parameter (rip)'s value invalid, see doc for more info.")
        if not text.strip():
            raise WeiboReject(20008)
        if not self._links_safe_domain(text):
            raise WeiboReject(10017, "text not find domain!")
        if weibo_length(text, cfg.url_weight) > cfg.max_chars:
            raise WeiboReject(20012, f"Text too long, please input text less than {cfg.max_chars} characters!")
        if any(word in text for word in cfg.forbidden_words):
            raise WeiboReject(21602)
        pic_sha256 = None
        if pic is not None:
            if not (pic.startswith(_JPEG) or pic.startswith(_PNG) or pic.startswith(_GIFS)):
                raise WeiboReject(20005)
            if len(pic) > cfg.max_pic_bytes:
                raise WeiboReject(20006)
            pic_sha256 = hashlib.sha256(pic).hexdigest()
        with self._lock:
            now = time.monotonic()
            recent = self._post_times.setdefault(account.uid, deque())
            while recent and now - recent[0] >= 3600:
                recent.popleft()
            if len(recent) >= cfg.posts_per_hour:
                raise WeiboReject(cfg.rate_limit_code)
            for post in self._live_posts(account.uid):
                if post.text == text:
                    raise WeiboReject(20019)
                if _normalise(post.text) == _normalise(text):
                    raise WeiboReject(20017)
            recent.append(now)
            post = _Post(account.uid, self._new_id(), text, datetime.now(BEIJING), rip, pic_sha256)
            self._posts[post.idstr] = post
            return post

    def destroy(self, account: WeiboAccount, id: str | None) -> _Post:
        with self._lock:
            post = self._find(id)
            if post.uid != account.uid:
                raise WeiboReject(20102)
            post.deleted = True
            return post

    def show(self, id: str | None) -> _Post:
        with self._lock:
            return self._find(id)

    def timeline(
        self, account: WeiboAccount, count: int, page: int, since_id: int, max_id: int
    ) -> tuple[list[_Post], int]:
        with self._lock:
            posts = [
                p
                for p in reversed(self._live_posts(account.uid))
                if int(p.idstr) > since_id and (not max_id or int(p.idstr) <= max_id)
            ]
        start = (page - 1) * count
        return posts[start : start + count], len(posts)

    def all_posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "uid": p.uid,
                    "idstr": p.idstr,
                    "text": p.text,
                    "created_at": _weibo_time(p.created_at),
                    "deleted": p.deleted,
                    "pic_sha256": p.pic_sha256,
                }
                for p in self._posts.values()
            ]

    def status_json(self, post: _Post) -> dict[str, Any]:
        account = self._users[post.uid]
        status: dict[str, Any] = {
            "created_at": _weibo_time(post.created_at),
            "id": int(post.idstr),
            "idstr": post.idstr,
            "mid": post.idstr,
            "text": post.text,
            "source": '<a href="https://app.weibo.com/t/feed/5yiHuw" rel="nofollow">未通过审核应用</a>',
            "favorited": False,
            "truncated": False,
            "in_reply_to_status_id": "",
            "in_reply_to_user_id": "",
            "in_reply_to_screen_name": "",
            "geo": None,
            "reposts_count": 0,
            "comments_count": 0,
            "attitudes_count": 0,
            "annotations": [],
            "user": {
                "id": int(account.uid),
                "idstr": account.uid,
                "screen_name": account.screen_name,
                "name": account.screen_name,
                "profile_url": f"u/{account.uid}",
                "verified": True,
            },
        }
        if post.pic_sha256:
            pid = _pic_id(post.pic_sha256)
            status.update(
                thumbnail_pic=f"https://wx1.sinaimg.cn/thumbnail/{pid}.jpg",
                bmiddle_pic=f"https://wx1.sinaimg.cn/bmiddle/{pid}.jpg",
                original_pic=f"https://wx1.sinaimg.cn/large/{pid}.jpg",
                pic_ids=[pid],
            )
        return status

    def _find(self, id: str | None) -> _Post:
        if not id or not id.strip():
            raise WeiboReject(10016, "miss required parameter (id) , see doc for more info.")
        post = self._posts.get(id.strip())
        if post is None or post.deleted:
            raise WeiboReject(20101)
        return post

    def _live_posts(self, uid: str) -> list[_Post]:
        return [p for p in self._posts.values() if p.uid == uid and not p.deleted]

    def _links_safe_domain(self, text: str) -> bool:
        for url in URL_RE.findall(text):
            host = (urlsplit(url).hostname or "").lower()
            if any(host == d or host.endswith("." + d) for d in self.config.safe_domains):
                return True
        return False

    def _new_id(self) -> str:
        """Snowflake-like: milliseconds << 22, so every id is far above 2^53 and keeps increasing."""
        self._last_id = max(self._last_id + 1, int(time.time() * 1000) << 22)
        return str(self._last_id)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _token(request: Request, form: Any = None) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("oauth2", "bearer") and credentials.strip():
        return credentials.strip()
    token = request.query_params.get("access_token")
    if token is None and form is not None:
        token = form.get("access_token")
    return token


def _param(request: Request, form: Any, name: str) -> str | None:
    value = form.get(name) if form is not None else None
    if value is None:
        value = request.query_params.get(name)
    return value if value is None or isinstance(value, str) else None


async def _read_pic(form: Any) -> bytes | None:
    value = form.get("pic")
    if value is None:
        return None
    if isinstance(value, str):
        raise WeiboReject(20007)
    return await value.read()


async def _stall(request: Request, seconds: float) -> None:
    """Hold the answer back, as a slow Weibo does after it has already posted; stop once the client gives up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.05)


def _int_param(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        raise WeiboReject(10017, f"parameter ({value})'s value invalid, see doc for more info.") from None


class _RequestLog:
    """ASGI middleware: one `/_sandbox/requests` entry per API call, with what the handlers noted
    in the request state (uid, error_code, fault)."""

    def __init__(self, app: Any, state: WeiboState):
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/2/", "/oauth2/")):
            await self.app(scope, receive, send)
            return
        seen: dict[str, int] = {}

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            await send(message)

        started = time.time()
        try:
            await self.app(scope, receive, capture)
        finally:
            notes = scope.get("state") or {}
            self.state.record(
                {
                    "time": started,
                    "method": scope["method"],
                    "path": scope["path"],
                    "uid": notes.get("uid"),
                    "http_status": seen.get("status"),
                    "error_code": notes.get("error_code"),
                    "fault": notes.get("fault"),
                }
            )


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    state = WeiboState(config or EmulatorConfig())
    app = FastAPI(title="Weibo open API emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.weibo = state

    def error_response(code: int, error: str | None, request: Request) -> JSONResponse:
        request.state.error_code = code
        path = request.url.path
        http_status, text = ERRORS.get(code, (400, f"error {code}"))
        body = {"error": error or text, "error_code": str(code) if state.faults.string_codes else code}
        return JSONResponse({**body, "request": path}, status_code=http_status)

    async def on_reject(request: Request, exc: WeiboReject) -> JSONResponse:
        return error_response(exc.code, exc.error, request)

    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = request.url.path
        if path.startswith(("/2/", "/oauth2/")) and exc.status_code in (404, 405):
            return error_response(10020 if exc.status_code == 404 else 10021, None, request)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    async def on_raw(request: Request, exc: _Raw) -> Response:
        return exc.response

    app.add_exception_handler(WeiboReject, on_reject)
    app.add_exception_handler(_Raw, on_raw)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_middleware(_RequestLog, state=state)

    async def enter(request: Request, endpoint: str, effectful: bool = False) -> _Plan:
        """Apply the faults planned for this call: latency, then any error answer instead of the call."""
        plan = state.plan(endpoint, effectful=effectful)
        request.state.fault = plan.action
        if plan.latency:
            await asyncio.sleep(plan.latency)
        if plan.action == "html_502":
            raise _Raw(HTMLResponse(_BAD_GATEWAY_HTML, status_code=502))
        if plan.action == "http_500":
            raise _Raw(PlainTextResponse("Internal Server Error", status_code=500))
        if plan.action == "error_code":
            raise WeiboReject(plan.code)
        return plan

    def authenticate(request: Request, form: Any = None) -> WeiboAccount:
        account = state.authenticate(_token(request, form))
        request.state.uid = account.uid
        return account

    @app.post("/2/statuses/share.json")
    async def share(request: Request) -> dict[str, Any]:
        form = await request.form()
        plan = await enter(request, "statuses/share.json", effectful=True)
        account = authenticate(request, form)
        pic = await _read_pic(form)
        post = state.share(account, _param(request, form, "status"), _param(request, form, "rip"), pic)
        if plan.stall:
            await _stall(request, plan.stall)
        if plan.action == "success_pending":
            raise WeiboReject(20032)
        return state.status_json(post)

    @app.post("/2/statuses/destroy.json")
    async def destroy(request: Request) -> dict[str, Any]:
        form = await request.form()
        plan = await enter(request, "statuses/destroy.json", effectful=True)
        account = authenticate(request, form)
        post = state.destroy(account, _param(request, form, "id"))
        if plan.stall:
            await _stall(request, plan.stall)
        return state.status_json(post)

    @app.get("/2/statuses/show.json")
    async def show(request: Request) -> dict[str, Any]:
        await enter(request, "statuses/show.json")
        authenticate(request)
        return state.status_json(state.show(request.query_params.get("id")))

    @app.get("/2/statuses/user_timeline.json")
    async def user_timeline(request: Request) -> dict[str, Any]:
        await enter(request, "statuses/user_timeline.json")
        account = authenticate(request)
        q = request.query_params
        count = min(max(_int_param(q.get("count"), 20), 1), 100)
        page = max(_int_param(q.get("page"), 1), 1)
        posts, total = state.timeline(
            account, count, page, _int_param(q.get("since_id"), 0), _int_param(q.get("max_id"), 0)
        )
        return {
            "statuses": [state.status_json(p) for p in posts],
            "total_number": total,
            "previous_cursor": 0,
            "next_cursor": 0,
            "hasvisible": False,
        }

    @app.post("/oauth2/get_token_info")
    async def get_token_info(request: Request) -> dict[str, Any]:
        form = await request.form()
        await enter(request, "oauth2/get_token_info")
        return state.token_info(authenticate(request, form))

    @app.post("/2/statuses/update.json")
    @app.post("/2/statuses/upload.json")
    @app.post("/2/statuses/upload_url_text.json")
    async def legacy_post(request: Request) -> None:
        raise WeiboReject(10014)

    @app.get("/_sandbox/posts")
    async def sandbox_posts() -> list[dict[str, Any]]:
        return state.all_posts()

    @app.get("/_sandbox/requests")
    async def sandbox_requests(path: str | None = None) -> list[dict[str, Any]]:
        return state.requests(path)

    @app.get("/_sandbox/faults")
    async def sandbox_fault_settings() -> dict[str, Any]:
        return state.fault_settings()

    @app.post("/_sandbox/faults")
    async def sandbox_faults(request: Request) -> Response:
        try:
            faults = Faults.model_validate_json(await request.body() or b"{}")
        except ValidationError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        state.set_faults(faults)
        return JSONResponse(state.fault_settings())

    @app.post("/_sandbox/reset")
    async def sandbox_reset() -> dict[str, bool]:
        state.reset()
        return {"ok": True}

    return app
