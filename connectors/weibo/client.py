"""A small Weibo open-API client on httpx, shaped like weibopy (PLATFORMS.md §2.7).

Paths are relative to `base_url` ("statuses/share.json"). Every JSON body carrying `error_code`
raises, whatever the HTTP status: Weibo sends most errors as 4xx with that body, and an old
sample even sends the code as a string. Status ids exceed 2^53, so callers keep `idstr`.
"""

from typing import Any
from urllib.parse import urljoin

import httpx

from connectors.weibo.errors import (
    WeiboBadResponseError,
    WeiboConnectionError,
    WeiboNoResponseError,
    api_error,
)

DEFAULT_BASE_URL = "https://api.weibo.com/2/"

# Errors raised before a single byte of the request could reach Weibo.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "pic.jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "pic.png", "image/png"),
    (b"GIF87a", "pic.gif", "image/gif"),
    (b"GIF89a", "pic.gif", "image/gif"),
)


class WeiboClient:
    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ):
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self._access_token = access_token
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"OAuth2 {access_token}"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "WeiboClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params=params)

    def post(self, path: str, data: dict[str, Any] | None = None, files: dict[str, Any] | None = None) -> Any:
        """Form-encoded without files, multipart with them (the way share.json takes `pic`)."""
        return self._send("POST", path, data=data, files=files)

    def share(self, status: str, pic: bytes | None = None, rip: str | None = None) -> dict[str, Any]:
        """Post `status` (which must link to the app's safe domain) through statuses/share.json."""
        data = {"status": status}
        if rip:
            data["rip"] = rip
        files = {"pic": _image_part(pic)} if pic is not None else None
        return self.post("statuses/share.json", data=data, files=files)

    def destroy(self, id: str | int) -> dict[str, Any]:
        return self.post("statuses/destroy.json", data={"id": str(id)})

    def show(self, id: str | int) -> dict[str, Any]:
        return self.get("statuses/show.json", id=str(id))

    def user_timeline(self, count: int = 100, page: int = 1) -> dict[str, Any]:
        """The authorised user's own posts, newest first (`{"statuses": [...], "total_number": n}`)."""
        return self.get("statuses/user_timeline.json", count=count, page=page)

    def token_info(self) -> dict[str, Any]:
        """`{"uid", "appkey", "scope", "create_at", "expire_in"}` — OAuth lives beside /2/, not under it."""
        url = urljoin(self.base_url, "../oauth2/get_token_info")
        return self.post(url, data={"access_token": self._access_token})

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except _NOT_SENT as exc:
            raise WeiboConnectionError(f"could not reach Weibo for {url}: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise WeiboNoResponseError(f"no answer from Weibo for {url}: {exc!r}") from exc
        return _parse(response)


def _parse(response: httpx.Response) -> Any:
    request = response.request.url.path
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error_code" in body:
        raise api_error(
            _int_code(body["error_code"]),
            str(body.get("error", "")),
            str(body.get("request") or request),
            response.status_code,
        )
    if body is None or response.status_code >= 400:
        raise WeiboBadResponseError(
            response.status_code, response.headers.get("content-type", ""), response.text[:200], request
        )
    return body


def _int_code(raw: Any) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        return -1


def _image_part(data: bytes) -> tuple[str, bytes, str]:
    """Bytes, never a file object: a retried upload must not send an exhausted stream."""
    for signature, filename, mime in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return filename, data, mime
    return "pic", data, "application/octet-stream"
