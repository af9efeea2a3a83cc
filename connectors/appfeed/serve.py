"""The feeds over HTTP: `feeds_app(feeds_dir)` serves every feed the connector wrote under `feeds_dir`.

    GET /feeds/{code}/feed.json   JSON Feed 1.1   application/feed+json
    GET /feeds/{code}/feed.xml    RSS 2.0         application/rss+xml
    GET /feeds/{code}/atom.xml    Atom 1.0        application/atom+xml
        ?page=N                   page N (1-based): 400 if N is not a positive integer, 404 past the last page

Polling contract (PLATFORMS.md §3.3): every 200 carries a strong `ETag` (SHA-256 of the bytes sent),
`Last-Modified` (the feed's last visible change), `Cache-Control: max-age=60`, and
`Link: <hub>; rel="hub", <self>; rel="self"` for WebSub discovery. `If-None-Match` (which wins
when both are sent) or `If-Modified-Since` that still match get 304 with an empty body. Bodies are
gzip-compressed when the client accepts it; the ETag is then that of the compressed bytes.

The routes carry the `/feeds` prefix: mount the app at the root (`api.mount("/", feeds_app(dir))`,
after the API's own routes) or serve it on its own.
"""

import gzip
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from connectors.appfeed import jsonfeed, rss_atom
from connectors.appfeed.store import FeedNotFound, FeedState, FeedStore
from connectors.appfeed.urls import FeedFormat, feed_url

CACHE_CONTROL = "max-age=60"

_FORMATS: dict[FeedFormat, tuple[str, Callable[[FeedState, int], bytes]]] = {
    FeedFormat.json: (jsonfeed.MEDIA_TYPE, lambda state, page: jsonfeed.dumps(jsonfeed.build_feed(state, page))),
    FeedFormat.rss: (f"{rss_atom.RSS_MEDIA_TYPE}; charset=utf-8", rss_atom.rss_bytes),
    FeedFormat.atom: (f"{rss_atom.ATOM_MEDIA_TYPE}; charset=utf-8", rss_atom.atom_bytes),
}


@dataclass(frozen=True)
class _Representation:
    body: bytes
    etag: str
    last_modified: datetime
    link: str


def feeds_app(feeds_dir: str | Path) -> Starlette:
    store = FeedStore(feeds_dir)

    @lru_cache(maxsize=256)
    def represent(code: str, fmt: FeedFormat, page: int, gzipped: bool, stamp: tuple) -> _Representation | None:
        """Rendered once per state file version (`stamp`), not once per poll."""
        state = store.read(code)
        if page > state.page_count():
            return None
        body = _FORMATS[fmt][1](state, page)
        if gzipped:
            body = gzip.compress(body, mtime=0)
        links = [f'<{state.meta.hub_url}>; rel="hub"'] if state.meta.hub_url else []
        links.append(f'<{feed_url(state.meta.base_url, code, fmt, page)}>; rel="self"')
        return _Representation(
            body=body,
            etag='"' + hashlib.sha256(body).hexdigest() + '"',
            last_modified=state.updated_at,
            link=", ".join(links),
        )

    def endpoint(fmt: FeedFormat) -> Callable[[Request], Response]:
        def serve(request: Request) -> Response:
            raw_page = request.query_params.get("page", "1")
            if not raw_page.isdigit() or int(raw_page) < 1:
                return PlainTextResponse("page must be a positive integer", status_code=400)
            code = request.path_params["code"]
            try:
                info = os.stat(store.state_path(code))
                gzipped = _accepts_gzip(request.headers.get("accept-encoding", ""))
                rep = represent(code, fmt, int(raw_page), gzipped, (info.st_mtime_ns, info.st_size, info.st_ino))
            except (FeedNotFound, FileNotFoundError):
                return PlainTextResponse("no such feed", status_code=404)
            if rep is None:
                return PlainTextResponse("no such page", status_code=404)
            headers = {
                "ETag": rep.etag,
                "Last-Modified": format_datetime(rep.last_modified.astimezone(UTC), usegmt=True),
                "Cache-Control": CACHE_CONTROL,
                "Link": rep.link,
                "Vary": "Accept-Encoding",
            }
            if _not_modified(request, rep):
                return Response(status_code=304, headers=headers)
            if gzipped:
                headers["Content-Encoding"] = "gzip"
            return Response(rep.body, media_type=_FORMATS[fmt][0], headers=headers)

        return serve

    return Starlette(
        routes=[Route(f"/feeds/{{code}}/{fmt.value}", endpoint(fmt), methods=["GET"]) for fmt in FeedFormat]
    )


def _not_modified(request: Request, rep: _Representation) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or rep.etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return int(rep.last_modified.timestamp()) <= since.timestamp()
    return False


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in ("gzip", "x-gzip"):
            quality = params.strip().removeprefix("q=")
            try:
                return float(quality or 1) > 0
            except ValueError:
                return True
    return False
