"""wechatpy's WeChatClient, made safe for unattended publishing (PLATFORMS.md §0.3 and §1.2).

What changes from the stock client:

- `api_base_url` per instance: the real `https://api.weixin.qq.com/cgi-bin/` or an emulator;
  every endpoint we use, token included, follows it.
- Tokens come from `POST stable_token` with `force_refresh=false`. Every worker that asks gets
  the *same* token until shortly before it expires, so workers never invalidate each other's
  token (a `GET token` call would). Each worker may therefore keep its own cache.
- `auto_retry` is off (upstream re-sends read-out file objects and recurses without bound on a
  persistent 40001). Instead a call answered 40001/40014/42001 fetches a token once and is
  re-sent once; a second token error is raised to the caller.
- An explicit timeout (the stock default waits forever).
- Uploads must be bytes, e.g. `("cover.jpg", data, "image/jpeg")`; file objects are refused
  because a re-sent request would carry an already-read, empty file.

Token storage: the token and its expiry live in a wechatpy `SessionStorage` under
`{appid}_access_token` and `{appid}_access_token_expires_at`, as in the base class. The default
is a fresh `MemoryStorage`; pass one storage to every client of a process to share the token
between threads (WeChatConnector does), or any other `SessionStorage` — wechatpy's
`RedisStorage(redis, prefix="ck-wechat")`, or a small subclass over the kitchen's database —
to share it between processes. Sharing saves token calls; correctness does not depend on it.
"""

import json
import time
from typing import Any

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

WECHAT_API_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid, malformed, expired access_token
DEFAULT_TIMEOUT = 10.0


def cgi_bin_root(url: str) -> str:
    """`http://host:port` or `http://host:port/cgi-bin` → `http://host:port/cgi-bin/`."""
    url = url.rstrip("/") + "/"
    return url if url.endswith("/cgi-bin/") else url + "cgi-bin/"


def _check_uploads(files: dict | None) -> None:
    for name, value in (files or {}).items():
        data = value[1] if isinstance(value, tuple) and len(value) >= 2 else value
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"upload {name!r} as bytes, e.g. ('a.jpg', data, 'image/jpeg'), not {type(data).__name__}")


class CKWeChatClient(WeChatClient):
    """One WeChat official account, via stable tokens, with one bounded retry on token errors."""

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        api_base_url: str = WECHAT_API_BASE_URL,
        session: SessionStorage | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.API_BASE_URL = cgi_bin_root(api_base_url)  # shadows the class attribute for this client only
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)

    def fetch_access_token(self) -> dict[str, Any]:
        """POST stable_token (normal mode) and store the token and its expiry in the session."""
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": False}
        res = self._http.post(
            f"{self.API_BASE_URL}stable_token",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        if not res.ok:
            raise WeChatClientException(None, None, client=self, request=res.request, response=res)
        try:
            result = res.json()
        except ValueError:
            raise WeChatClientException(None, "stable_token reply is not JSON", client=self, response=res) from None
        if int(result.get("errcode", 0)) != 0:
            raise WeChatClientException(
                int(result["errcode"]), result.get("errmsg"), client=self, request=res.request, response=res
            )
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result

    def _request(self, method, url_or_endpoint, **kwargs):
        _check_uploads(kwargs.get("files"))
        try:
            return super()._request(method, url_or_endpoint, **_fresh(kwargs))
        except WeChatClientException as error:
            if error.errcode not in TOKEN_ERRCODES:
                raise
        self.fetch_access_token()
        retry = _fresh(kwargs)
        retry["params"]["access_token"] = self.session.get(self.access_token_key)
        return super()._request(method, url_or_endpoint, **retry)


def _fresh(kwargs: dict) -> dict:
    """A copy the base class may mutate (it writes the token into `params` in place)."""
    copy = dict(kwargs)
    copy["params"] = dict(kwargs.get("params") or {})
    return copy
