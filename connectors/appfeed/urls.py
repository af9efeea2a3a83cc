"""Where a feed lives: `{base_url}/feeds/{code}/{file}`, page N (N > 1) as `?page=N`.

The connector (receipts, feed_url, next_url) and the server (Link headers) both build addresses here.
"""

from enum import StrEnum


class FeedFormat(StrEnum):
    json = "feed.json"
    rss = "feed.xml"
    atom = "atom.xml"


def feed_path(code: str, fmt: FeedFormat = FeedFormat.json) -> str:
    return f"/feeds/{code}/{fmt.value}"


def feed_url(base_url: str, code: str, fmt: FeedFormat = FeedFormat.json, page: int = 1) -> str:
    """Page 1 has no query string, so it doubles as the feed's identity (JSON Feed `feed_url`, Atom id)."""
    url = base_url.rstrip("/") + feed_path(code, fmt)
    return url if page == 1 else f"{url}?page={page}"


def absolute_url(base_url: str, path: str) -> str:
    """A root-relative path (`/media/…`) under the kitchen's public base URL."""
    return base_url.rstrip("/") + path
